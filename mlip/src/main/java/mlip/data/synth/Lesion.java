package mlip.data.synth;

import java.util.SplittableRandom;

/*
 * Design note — how each finding is drawn, and why it is this hard.
 *
 * Every finding is evaluated per pixel in canonical coordinates (see Anatomy) and returns
 *   fill  in [0,1]: how much of the lung's darkness it takes away (an opacity "fills" the air space;
 *                   1 = as bright as soft tissue, 0.3 = a haze),
 *   gap   in [0,1]: pneumothorax only: pleural air (darker, no lung markings),
 *   line  >= 0     : thin bright lines added on top (pneumothorax pleural line, Kerley lines),
 *   mask           : whether the pixel belongs to the finding's ground-truth mask,
 *   score          : a "how central" value used when a mask comes out empty at a tiny resolution
 *                    (then the best-scoring pixel becomes the mask, so a mask is never empty).
 * Opacities only change lung pixels: a finding drawn where the report says (the named lobe, the named
 * base, the named apex) is visible exactly there, and its mask is clipped to the lung.
 *
 * Hardness (DESIGN.md section 8): the mild grade is meant to be hard at 96 px — plate-like atelectasis
 * is ~1 px thick, a small effusion only blunts the costophrenic angle, a small pneumothorax is a rim of
 * ~3-4 px at the apex whose only signs are missing vessels and a faint pleural line, mild cardiomegaly
 * overlaps the normal range of heart sizes, mild edema is a faint perihilar haze. Moderate and severe grades
 * are clearly visible, which keeps the set learnable. Sizes are in canonical units, so the drawing is the
 * same at any resolution (96 or 224 px); only the pixel noise differs.
 */
final class Lesion {

    final FindingInstance spec;
    final int side; // Anatomy.RIGHT/LEFT, or -1 for bilateral/central
    final double contrast;

    // atelectasis band / consolidation centre
    double t0, y0, angle, dirT, dirY, halfLen, halfThick, amp;
    // consolidation shape
    double radius;
    final double[] harmK = new double[3], harmA = new double[3], harmP = new double[3];
    double texFt, texFy, texPt, texPy;
    // edema
    double sigT, sigY;
    double[][] kerley; // per line: side, t0, t1, y
    // effusion heights per side (0 = none)
    final double[] effH = new double[2];
    // pneumothorax collapse
    double collapseT, collapseY, pivotT, pivotY, yCut;

    /** Per-pixel output of {@link #eval}. */
    static final class Px {
        double fill, gap, line, score;
        boolean mask;

        void clear() {
            fill = 0;
            gap = 0;
            line = 0;
            score = Double.NEGATIVE_INFINITY;
            mask = false;
        }
    }

    Lesion(FindingInstance spec, Anatomy a, SplittableRandom r, double contrast) {
        this.spec = spec;
        this.contrast = contrast;
        Location loc = spec.location();
        this.side = loc.isRight() ? Anatomy.RIGHT : loc.isLeft() ? Anatomy.LEFT : -1;
        int lv = spec.severity().level();
        switch (spec.finding()) {
            case ATELECTASIS -> {
                halfLen = new double[] {0.05, 0.072, 0.10}[lv] * r.nextDouble(0.85, 1.15);
                halfThick = new double[] {0.0055, 0.009, 0.014}[lv];
                amp = new double[] {0.5, 0.68, 0.85}[lv];
                angle = r.nextDouble(-0.3, 0.3);
                t0 = r.nextDouble(0.16, 0.28);
                y0 = a.diaphragmY(side, t0) - r.nextDouble(0.03, 0.065);
                while (side == Anatomy.LEFT && maxHeartOverlap(a) && t0 < 0.3) {
                    t0 += 0.01; // not behind the heart, where it would be invisible
                    y0 = a.diaphragmY(side, t0) - 0.05;
                }
                while (minLungSdAlong(a) < halfThick + 0.006 && y0 > 0.5) {
                    y0 -= 0.005; // keep the whole band inside the lung, just above the dome
                }
                dirT = Math.cos(angle);
                dirY = Math.sin(angle);
            }
            case CARDIOMEGALY -> {
                // drawn by the anatomy: Renderer enlarges the heart before any other lesion is placed
            }
            case CONSOLIDATION -> {
                radius = new double[] {0.042, 0.06, 0.082}[lv] * r.nextDouble(0.85, 1.15);
                if (loc == Location.RIGHT_MIDDLE_LOBE) {
                    radius = Math.min(radius, 0.055);
                }
                amp = new double[] {0.55, 0.72, 0.88}[lv];
                placeInLobe(a, r);
                for (int k = 0; k < 3; k++) {
                    harmK[k] = 2 + k + r.nextInt(2);
                    harmA[k] = r.nextDouble(0.05, 0.14);
                    harmP[k] = r.nextDouble(0, 2 * Math.PI);
                }
                texFt = r.nextDouble(30, 55) * 2 * Math.PI;
                texFy = r.nextDouble(30, 55) * 2 * Math.PI;
                texPt = r.nextDouble(0, 2 * Math.PI);
                texPy = r.nextDouble(0, 2 * Math.PI);
            }
            case EDEMA -> {
                double sc = new double[] {0.85, 1.0, 1.15}[lv] * r.nextDouble(0.92, 1.08);
                sigT = 0.10 * sc;
                sigY = 0.13 * sc;
                amp = new double[] {0.22, 0.36, 0.5}[lv];
                int lines = lv == 0 ? 0 : 4;
                kerley = new double[2 * lines][];
                for (int s = 0; s < 2; s++) {
                    for (int k = 0; k < lines; k++) {
                        double y = r.nextDouble(0.58, 0.74);
                        double wall = a.lateralWall(s, y) - 0.006;
                        kerley[s * lines + k] = new double[] {s, wall - r.nextDouble(0.018, 0.03), wall, y};
                    }
                }
            }
            case PLEURAL_EFFUSION -> {
                double h = new double[] {0.065, 0.10, 0.16}[lv];
                amp = new double[] {0.75, 0.85, 0.92}[lv];
                for (int s = 0; s < 2; s++) {
                    boolean here = loc == Location.BILATERAL || (s == Anatomy.RIGHT ? loc.isRight() : loc.isLeft());
                    effH[s] = here ? h * r.nextDouble(0.85, 1.15) : 0;
                }
            }
            case PNEUMOTHORAX -> {
                double f = new double[] {0.945, 0.88, 0.78}[lv] * r.nextDouble(0.99, 1.01);
                collapseY = f;
                collapseT = 1 - (1 - f) * 0.6; // mostly apical: the lung drops more than it narrows
                pivotT = 0.20;
                pivotY = 0.78;
                yCut = new double[] {0.52, 0.6, 0.68}[lv];
                amp = 0.07;
            }
        }
    }

    private double minLungSdAlong(Anatomy a) {
        double m = Double.POSITIVE_INFINITY;
        for (int k = -4; k <= 4; k++) {
            double u = halfLen * k / 4.0;
            m = Math.min(m, a.lungSd(side, t0 + u * Math.cos(angle), y0 + u * Math.sin(angle)));
        }
        return m;
    }

    private boolean maxHeartOverlap(Anatomy a) {
        for (int k = -4; k <= 4; k++) {
            double u = halfLen * k / 4.0;
            if (a.heartR(Anatomy.xOf(side, t0 + u * Math.cos(angle)), y0 + u * Math.sin(angle)) < 1.08) {
                return true;
            }
        }
        return false;
    }

    /** Rejection-samples a consolidation centre inside the named lobe, away from the lung edge. */
    private void placeInLobe(Anatomy a, SplittableRandom r) {
        Location lobe = spec.location();
        double need = 0.6 * radius;
        for (int tries = 0; ; tries++) {
            double t = r.nextDouble(0.07, 0.37);
            double y = r.nextDouble(a.apexY + 0.03, a.cpY[side]);
            if (tries == 200) {
                need = 0.01; // small patients: accept any point of the lobe inside the lung
            }
            if (a.inLobe(lobe, t, y) && a.lungSd(side, t, y) > need
                    && (side != Anatomy.LEFT || a.heartR(Anatomy.xOf(side, t), y) > 1.05)) {
                t0 = t;
                y0 = y;
                return;
            }
            if (tries > 5000) {
                throw new IllegalStateException("cannot place consolidation in " + lobe);
            }
        }
    }

    /** Evaluates this finding at a pixel: side s, lateral t, canonical (x, y), lung distance lsd. */
    void eval(Anatomy a, int s, double t, double x, double y, double lsd, double pixel, Px out) {
        out.clear();
        switch (spec.finding()) {
            case ATELECTASIS -> {
                if (s != side) {
                    return;
                }
                double d = segmentDistance(t, y, t0, y0, dirT, dirY, halfLen);
                out.fill = contrast * amp * clamp01((halfThick + 0.004 - d) / 0.008);
                out.mask = lsd > 0 && d <= Math.max(halfThick, 0.55 * pixel);
                out.score = lsd > 0 ? -d : Double.NEGATIVE_INFINITY;
            }
            case CARDIOMEGALY -> {
                double hr = a.heartR(x, y);
                out.mask = hr <= 1;
                out.score = -hr;
            }
            case CONSOLIDATION -> {
                if (s != side || !a.inLobe(spec.location(), t, y)) {
                    return;
                }
                double et = t - t0;
                double ey = y - y0;
                double d = Math.sqrt(et * et + ey * ey);
                if (d > 1.6 * radius) {
                    return;
                }
                double th = Math.atan2(ey, et);
                double rr = radius;
                for (int k = 0; k < 3; k++) {
                    rr += radius * harmA[k] * Math.sin(harmK[k] * th + harmP[k]);
                }
                double f = clamp01((rr - d) / 0.014 + 0.5);
                double tex = 0.82 + 0.18 * (0.5 + 0.5 * Math.sin(texFt * t + texPt) * Math.sin(texFy * y + texPy));
                out.fill = contrast * amp * f * tex;
                out.mask = lsd > 0 && f >= 0.5;
                out.score = lsd > 0 ? f - d : Double.NEGATIVE_INFINITY;
            }
            case EDEMA -> {
                double ht = (t - (a.hilumT(s) + 0.02)) / sigT;
                double hy = (y - 0.46) / sigY;
                double g = Math.exp(-(ht * ht + hy * hy));
                out.fill = contrast * amp * g;
                out.mask = lsd > 0 && g >= 0.5;
                out.score = lsd > 0 ? g : Double.NEGATIVE_INFINITY;
                for (double[] k : kerley) {
                    if (k[0] == s && t >= k[1] && t <= k[2]) {
                        double dy = (y - k[3]) / 0.003;
                        out.line += 0.035 * contrast * Math.exp(-dy * dy);
                    }
                }
            }
            case PLEURAL_EFFUSION -> {
                double h = effH[s];
                if (h == 0) {
                    return;
                }
                // fluid level: highest at the lateral wall (the meniscus); a small effusion only fills the costophrenic
                // angle under the dome's lateral slope, a large one covers the whole hemidiaphragm
                double lat = clamp01(t / 0.37);
                double level = a.cpY[s] - h * (0.5 + 0.5 * lat * lat);
                out.fill = contrast * amp * clamp01((y - level) / 0.018);
                out.mask = lsd > 0 && y >= level + 0.009;
                out.score = lsd > 0 ? y - level : Double.NEGATIVE_INFINITY;
            }
            case PNEUMOTHORAX -> {
                if (s != side || lsd <= 0) {
                    return;
                }
                double qt = pivotT + (t - pivotT) / collapseT;
                double qy = pivotY + (y - pivotY) / collapseY;
                double g = a.lungSd(s, qt, qy) * collapseY; // distance to the collapsed lung's edge
                double below = clamp01((yCut - y) / 0.03);
                out.gap = clamp01(-g / 0.004 + 0.5) * below * clamp01(lsd / 0.004);
                double lw = Math.max(0.0035, 0.7 * pixel);
                out.line = contrast * amp * Math.exp(-(g / lw) * (g / lw)) * below * clamp01(lsd / 0.006);
                out.mask = g < 0 && y < yCut;
                out.score = y < yCut ? -g : Double.NEGATIVE_INFINITY;
            }
        }
    }

    /** Distance from (t, y) to the segment centred at (ct, cy) with unit direction (ut, uy). */
    static double segmentDistance(double t, double y, double ct, double cy, double ut, double uy, double halfLen) {
        double pt = t - ct;
        double py = y - cy;
        double along = Math.max(-halfLen, Math.min(halfLen, pt * ut + py * uy));
        double dt = pt - along * ut;
        double dy = py - along * uy;
        return Math.sqrt(dt * dt + dy * dy);
    }

    static double clamp01(double v) {
        return v < 0 ? 0 : v > 1 ? 1 : v;
    }
}
