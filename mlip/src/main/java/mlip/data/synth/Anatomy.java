package mlip.data.synth;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/*
 * Design note — the geometry of a SynthCXR chest, all in "canonical" coordinates.
 *
 * Canonical coordinates: x in [0,1] from the image's left edge to its right edge, y in [0,1] from top to
 * bottom, midline at x = 0.5. The image is a PA radiograph shown in the radiological convention: the
 * patient faces the viewer, so the PATIENT'S RIGHT lung is on the IMAGE'S LEFT (x < 0.5) and the
 * patient's left lung, the heart's bulk, the aortic knob and the gastric bubble are on the image's right.
 * Report words "right"/"left" always mean the patient's side. Per lung we use the lateral coordinate
 * t = distance from the midline towards that lung's side (t = 0.5 - x for the right lung, x - 0.5 for the
 * left), so one set of formulas draws both lungs mirrored, each with its own parameters.
 *
 * A patient's anatomy varies (size, position, tilt, heart size, diaphragm height, breast shadows, gastric
 * bubble), so no single pixel tells a finding apart: normal heart width overlaps mild cardiomegaly a little,
 * breast shadows brighten the bases like a small effusion would, ribs cross every lung zone.
 * Pixels are mapped to canonical coordinates by the inverse of the patient transform (shift, scale, tilt).
 */
final class Anatomy {

    static final int RIGHT = 0; // the patient's right lung = image left half
    static final int LEFT = 1; // the patient's left lung = image right half

    static final double LUNG_YC = 0.47; // vertical centre of the lung superellipses
    static final double LUNG_P = 2.5; // superellipse exponent: rounded-rectangle lungs (x^2.5 = x*x*sqrt(x), cheap)

    // patient transform (image -> canonical)
    final double tilt, cosT, sinT, dx, dy, sx, sy;
    // lungs, per side
    final double[] lungTc = new double[2], lungAw = new double[2], cpY = new double[2], domeH = new double[2];
    final double apexY, lungBhBottom;
    final double minorFissureY, leftFissureY;
    // heart ellipse (cardiomegaly rescales a, b and shifts the centre)
    double heartCx, heartCy, heartA, heartB;
    final double heartAng, heartCos, heartSin;
    // tissue densities
    final double softTissue, lungDark;
    final boolean breasts, gastricBubble;
    final double breastAmp;
    final double ribY0, ribSpacing;
    // lung markings: segments (t0, y0, t1, y1, w0, w1, a0, a1) per side, canonical units
    final List<List<double[]>> vessels;
    // parenchymal texture: a few random plane waves (kx, ky, phase, amplitude)
    final double[][] texture;

    Anatomy(SplittableRandom r) {
        tilt = r.nextDouble(-0.035, 0.035);
        cosT = Math.cos(tilt);
        sinT = Math.sin(tilt);
        dx = 0.012 * r.nextGaussian();
        dy = 0.012 * r.nextGaussian();
        sx = r.nextDouble(0.93, 1.05);
        sy = r.nextDouble(0.93, 1.05);
        apexY = 0.115 + r.nextDouble(-0.012, 0.012);
        lungBhBottom = 0.55;
        double cp = 0.785 + r.nextDouble(-0.02, 0.02);
        cpY[RIGHT] = cp;
        cpY[LEFT] = cp + r.nextDouble(0.0, 0.03); // the left hemidiaphragm usually sits a little lower
        for (int s = 0; s < 2; s++) {
            lungTc[s] = 0.215 + r.nextDouble(-0.008, 0.008);
            lungAw[s] = (s == RIGHT ? 0.155 : 0.15) * r.nextDouble(0.95, 1.05);
            domeH[s] = r.nextDouble(0.05, 0.08);
        }
        minorFissureY = 0.40 + r.nextDouble(-0.02, 0.02);
        leftFissureY = 0.53 + r.nextDouble(-0.02, 0.02);
        heartCx = 0.545 + r.nextDouble(-0.01, 0.01);
        heartCy = 0.635 + r.nextDouble(-0.012, 0.012);
        heartA = 0.145 * r.nextDouble(0.92, 1.05);
        heartB = 0.112 * r.nextDouble(0.95, 1.05);
        heartAng = -0.35 + r.nextDouble(-0.1, 0.1);
        heartCos = Math.cos(heartAng);
        heartSin = Math.sin(heartAng);
        softTissue = r.nextDouble(0.56, 0.66);
        lungDark = r.nextDouble(0.33, 0.42);
        breasts = r.nextDouble() < 0.4;
        breastAmp = r.nextDouble(0.03, 0.07);
        gastricBubble = r.nextDouble() < 0.6;
        ribY0 = 0.135 + r.nextDouble(-0.012, 0.012);
        ribSpacing = 0.066 * r.nextDouble(0.95, 1.05);
        vessels = List.of(growVessels(RIGHT, r), growVessels(LEFT, r));
        texture = new double[8][];
        for (int k = 0; k < texture.length; k++) {
            double wl = r.nextDouble(0.04, 0.14);
            double dir = r.nextDouble(0, Math.PI);
            texture[k] = new double[] {2 * Math.PI / wl * Math.cos(dir), 2 * Math.PI / wl * Math.sin(dir),
                r.nextDouble(0, 2 * Math.PI), r.nextDouble(0.004, 0.01)};
        }
    }

    // ---- coordinates -------------------------------------------------------------------------------

    /** Image coordinates (u, v in [0,1], v down) to canonical; returns {x, y} in out. */
    void toCanonical(double u, double v, double[] out) {
        double px = u - 0.5;
        double py = v - 0.5;
        double qx = cosT * px + sinT * py;
        double qy = -sinT * px + cosT * py;
        out[0] = 0.5 + (qx - dx) / sx;
        out[1] = 0.5 + (qy - dy) / sy;
    }

    static int sideOf(double x) {
        return x < 0.5 ? RIGHT : LEFT;
    }

    static double lateral(int side, double x) {
        return side == RIGHT ? 0.5 - x : x - 0.5;
    }

    static double xOf(int side, double t) {
        return side == RIGHT ? 0.5 - t : 0.5 + t;
    }

    // ---- lungs -------------------------------------------------------------------------------------

    /** Height of the hemidiaphragm under lateral position t: a dome, lowest at the costophrenic angle. */
    double diaphragmY(int s, double t) {
        double u = Math.max(-1.3, Math.min(1.25, (t - 0.19) / 0.175));
        return cpY[s] - domeH[s] * (1 - u * u);
    }

    /**
     * Approximate signed distance to the lung outline (positive inside): a superellipse (taller above its
     * centre than below, so the apex is rounded and the base wide) cut by the diaphragm dome.
     */
    double lungSd(int s, double t, double y) {
        double aw = lungAw[s];
        double bh = y < LUNG_YC ? LUNG_YC - apexY : lungBhBottom;
        double a = Math.abs((t - lungTc[s]) / aw);
        double b = Math.abs((y - LUNG_YC) / bh);
        double r = Math.pow(a * a * Math.sqrt(a) + b * b * Math.sqrt(b), 1.0 / LUNG_P);
        double se = (1 - r) * aw;
        return Math.min(se, diaphragmY(s, t) - y);
    }

    /** Lateral wall position at height y (where the superellipse meets t > centre). */
    double lateralWall(int s, double y) {
        double bh = y < LUNG_YC ? LUNG_YC - apexY : lungBhBottom;
        double b = Math.min(1, Math.abs((y - LUNG_YC) / bh));
        return lungTc[s] + lungAw[s] * Math.pow(Math.max(0, 1 - Math.pow(b, LUNG_P)), 1.0 / LUNG_P);
    }

    /** 1 inside the named lobe's projection, 0 outside (sharp: fissures are sharp edges). */
    boolean inLobe(Location lobe, double t, double y) {
        return switch (lobe) {
            case RIGHT_UPPER_LOBE -> y < minorFissureY;
            case RIGHT_MIDDLE_LOBE -> y >= minorFissureY && y < 0.65 && t < 0.235;
            case RIGHT_LOWER_LOBE -> y >= minorFissureY && !(y < 0.65 && t < 0.235);
            case LEFT_UPPER_LOBE -> y < leftFissureY;
            case LEFT_LOWER_LOBE -> y >= leftFissureY;
            default -> throw new IllegalArgumentException(lobe + " is not a lobe");
        };
    }

    // ---- heart -------------------------------------------------------------------------------------

    /** Heart "radius" coordinate: < 1 inside the (rotated) heart ellipse. */
    double heartR(double x, double y) {
        double ex = x - heartCx;
        double ey = y - heartCy;
        double hx = heartCos * ex + heartSin * ey;
        double hy = -heartSin * ex + heartCos * ey;
        return Math.sqrt((hx / heartA) * (hx / heartA) + (hy / heartB) * (hy / heartB));
    }

    /** Cardiomegaly: enlarge the heart (mild ~ cardiothoracic ratio 0.5, severe ~ 0.6). */
    void enlargeHeart(Severity sev, double jitter) {
        double f = new double[] {1.17, 1.29, 1.42}[sev.level()] * jitter;
        heartA *= f;
        heartB *= 1 + (f - 1) * 0.45;
        heartCx += 0.018 * (f - 1) / 0.4; // the enlarged heart bulges to the patient's left (image right)
        heartCy += 0.025 * (f - 1) / 0.4;
    }

    // ---- lung markings -----------------------------------------------------------------------------

    /** Hilum (t, y) of a side: the root the vessels radiate from. */
    double hilumT(int s) {
        return s == RIGHT ? 0.105 : 0.10;
    }

    double hilumY(int s) {
        return s == RIGHT ? 0.455 : 0.43;
    }

    /** Vessel trees: 7-9 trunks from the hilum, each forking once, tapering towards the periphery. */
    private List<double[]> growVessels(int s, SplittableRandom r) {
        List<double[]> segs = new ArrayList<>();
        int trunks = 7 + r.nextInt(3);
        double t0 = hilumT(s);
        double y0 = hilumY(s);
        for (int k = 0; k < trunks; k++) {
            double phi = -1.9 + (3.2 * (k + r.nextDouble(0.2, 0.8))) / trunks; // up ... lateral ... down
            double reach = march(s, t0, y0, phi);
            double len = reach * r.nextDouble(0.55, 0.85);
            double fork = len * r.nextDouble(0.4, 0.6);
            double ft = t0 + fork * Math.cos(phi);
            double fy = y0 + fork * Math.sin(phi);
            segs.add(new double[] {t0, y0, ft, fy, 0.0075, 0.0050, 0.10, 0.06});
            for (int b = 0; b < 2; b++) {
                double ph = phi + (b == 0 ? -1 : 1) * r.nextDouble(0.25, 0.55);
                double rest = Math.min(march(s, ft, fy, ph), (len - fork) * r.nextDouble(0.9, 1.4));
                segs.add(new double[] {ft, fy, ft + rest * Math.cos(ph), fy + rest * Math.sin(ph), 0.0045, 0.0025, 0.06, 0.02});
            }
        }
        return segs;
    }

    /** Distance from (t, y) along direction phi before getting within 0.03 of the lung outline. */
    private double march(int s, double t, double y, double phi) {
        double d = 0;
        while (d < 0.4) {
            double tt = t + (d + 0.005) * Math.cos(phi);
            double yy = y + (d + 0.005) * Math.sin(phi);
            if (lungSd(s, tt, yy) < 0.03) {
                break;
            }
            d += 0.005;
        }
        return Math.max(d, 0.02);
    }
}
