package mlip.data.synth;

import static mlip.data.ChexpertLabels.ATELECTASIS;
import static mlip.data.ChexpertLabels.CARDIOMEGALY;
import static mlip.data.ChexpertLabels.CONSOLIDATION;
import static mlip.data.ChexpertLabels.EDEMA;
import static mlip.data.ChexpertLabels.ENLARGED_CARDIOMEDIASTINUM;
import static mlip.data.ChexpertLabels.LUNG_OPACITY;
import static mlip.data.ChexpertLabels.NO_FINDING;
import static mlip.data.ChexpertLabels.PLEURAL_EFFUSION;
import static mlip.data.ChexpertLabels.PNEUMOTHORAX;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import mlip.data.ChexpertLabels;

/*
 * Design note — reports and labels.
 *
 * A report is "FINDINGS: ... IMPRESSION: ..." (after short EXAMINATION/INDICATION/COMPARISON lines, as in
 * MIMIC-CXR). Every present finding gets a FINDINGS sentence from several paraphrases carrying its severity
 * and location words ("Moderate right pleural effusion.", "There is mild left basilar plate-like
 * atelectasis."), and usually an IMPRESSION sentence too. Absent findings are often negated explicitly ("No
 * pneumothorax.", "No pleural effusion or focal consolidation.") — distractors that share words with the
 * positive sentences, so a bag-of-words shortcut does not work. Negations are only ever about absent
 * findings, so a sentence never contradicts the image. Normal-anatomy sentences ("The hila are
 * unremarkable.") carry no finding.
 *
 * Labels follow from the sentences, as a report labeler would give them: every sentence template lists the
 * CheXpert labels it asserts (1.0) or negates (0.0); a label asserted anywhere is 1.0, else 0.0 when negated,
 * else empty (NaN). "No Finding" is 1.0 when nothing is asserted. Sentences never contain a period inside, so
 * any sentence splitter that splits on ". " recovers them exactly.
 */
final class Reports {

    record Report(String text, List<SentenceAnnotation> sentences, float[] labels) {
    }

    /** One sentence with the finding it describes (or null) and the labels it asserts / negates. */
    private record Sent(String text, Finding finding, int[] pos, int[] neg) {
    }

    private static final int[] NONE = {};

    static Report write(List<FindingInstance> findings, SplittableRandom r) {
        Set<Finding> present = EnumSet.noneOf(Finding.class);
        for (FindingInstance f : findings) {
            present.add(f.finding());
        }
        List<Sent> body = new ArrayList<>();
        if (r.nextDouble() < 0.3) {
            body.add(new Sent(pick(r, "PA view of the chest was obtained.", "Single frontal view of the chest.",
                    "Frontal radiograph of the chest was reviewed."), null, NONE, NONE));
        }
        // heart first, as radiologists do
        FindingInstance cardio = find(findings, Finding.CARDIOMEGALY);
        if (cardio != null) {
            body.add(positive(cardio, r));
        } else if (r.nextDouble() < 0.75) {
            int k = r.nextInt(6);
            body.add(switch (k) {
                case 0 -> new Sent("Heart size is normal.", null, NONE, new int[] {CARDIOMEGALY});
                case 1 -> new Sent("The heart is normal in size.", null, NONE, new int[] {CARDIOMEGALY});
                case 2 -> new Sent("No cardiomegaly.", null, NONE, new int[] {CARDIOMEGALY});
                case 3 -> new Sent("The cardiac silhouette is within normal limits.", null, NONE, new int[] {CARDIOMEGALY});
                case 4 -> new Sent("The cardiomediastinal silhouette is normal.", null, NONE, new int[] {CARDIOMEGALY, ENLARGED_CARDIOMEDIASTINUM});
                default -> new Sent("Heart size and mediastinal contours are normal.", null, NONE, new int[] {CARDIOMEGALY, ENLARGED_CARDIOMEDIASTINUM});
            });
        }
        if (r.nextDouble() < 0.3) {
            body.add(new Sent(pick(r, "The mediastinal contours are within normal limits.", "Mediastinal contours are unremarkable."),
                    null, NONE, new int[] {ENLARGED_CARDIOMEDIASTINUM}));
        }
        // the other findings in random order
        List<FindingInstance> rest = new ArrayList<>();
        for (FindingInstance f : findings) {
            if (f.finding() != Finding.CARDIOMEGALY) {
                rest.add(f);
            }
        }
        shuffle(rest, r);
        for (FindingInstance f : rest) {
            body.add(positive(f, r));
        }
        boolean lungFinding = present.contains(Finding.ATELECTASIS) || present.contains(Finding.CONSOLIDATION) || present.contains(Finding.EDEMA);
        if (r.nextDouble() < 0.4) {
            body.add(new Sent(lungFinding ? "The lungs are otherwise clear." : pick(r, "The lungs are clear.", "Lungs are well expanded and clear."),
                    null, NONE, NONE));
        }
        body.addAll(negations(present, r));
        if (r.nextDouble() < 0.5) {
            body.add(new Sent(pick(r, "The hila are unremarkable.", "Lung volumes are normal.", "The osseous structures are unremarkable.",
                    "No acute osseous abnormality.", "The visualized upper abdomen is unremarkable."), null, NONE, NONE));
        }

        List<Sent> impression = new ArrayList<>();
        if (findings.isEmpty()) {
            impression.add(new Sent(pick(r, "No acute cardiopulmonary process.", "No acute intrathoracic abnormality.",
                    "Normal chest radiograph.", "No acute cardiopulmonary abnormality."), null, NONE, NONE));
        } else {
            List<FindingInstance> order = new ArrayList<>(findings);
            shuffle(order, r);
            boolean any = false;
            for (int k = 0; k < order.size(); k++) {
                if (r.nextDouble() < 0.75 || (!any && k == order.size() - 1)) {
                    impression.add(impressionSentence(order.get(k), r));
                    any = true;
                }
            }
            if (!present.contains(Finding.PNEUMOTHORAX) && r.nextDouble() < 0.25) {
                impression.add(new Sent("No pneumothorax.", null, NONE, new int[] {PNEUMOTHORAX}));
            }
        }

        String[] indications = {"___-year-old with shortness of breath.", "___-year-old with cough.", "Chest pain.",
            "Preoperative evaluation.", "Follow-up.", "___-year-old with fever."};
        StringBuilder text = new StringBuilder();
        text.append("FINAL REPORT\nEXAMINATION: CHEST (PA)\n\nINDICATION: ").append(pick(r, indications))
                .append("\n\nCOMPARISON: None.\n\nFINDINGS:\n\n");
        appendParagraph(text, body);
        text.append("\n\nIMPRESSION:\n\n");
        appendParagraph(text, impression);
        text.append('\n');

        List<SentenceAnnotation> sentences = new ArrayList<>();
        float[] labels = ChexpertLabels.empty();
        boolean anyPositive = false;
        List<Sent> all = new ArrayList<>(body);
        all.addAll(impression);
        for (Sent s : all) {
            sentences.add(new SentenceAnnotation(s.text(), s.finding()));
            for (int l : s.neg()) {
                if (Float.isNaN(labels[l])) {
                    labels[l] = 0f;
                }
            }
        }
        for (Sent s : all) {
            for (int l : s.pos()) {
                labels[l] = 1f; // an assertion wins over a negation elsewhere
                anyPositive = true;
            }
        }
        if (!anyPositive) {
            labels[NO_FINDING] = 1f;
        }
        return new Report(text.toString(), List.copyOf(sentences), labels);
    }

    private static void appendParagraph(StringBuilder text, List<Sent> sents) {
        for (int i = 0; i < sents.size(); i++) {
            if (i > 0) {
                text.append(' ');
            }
            text.append(sents.get(i).text());
        }
    }

    // ---- positive sentences -------------------------------------------------------------------------

    private static Sent positive(FindingInstance f, SplittableRandom r) {
        int lv = f.severity().level();
        Location loc = f.location();
        String side = loc.words(); // "right", "left", "bilateral", "right upper lobe", ...
        Finding fi = f.finding();
        return switch (fi) {
            case ATELECTASIS -> {
                String adj = pick(r, new String[][] {{"mild", "minimal", "subtle"}, {"moderate"}, {"extensive", "marked"}}[lv]);
                int k = r.nextInt(5);
                yield switch (k) {
                    case 0 -> sent("There is " + adj + " " + side + " basilar plate-like atelectasis.", fi, ATELECTASIS);
                    case 1 -> sent(cap(adj) + " plate-like atelectasis at the " + side + " lung base.", fi, ATELECTASIS);
                    case 2 -> sent(cap(adj) + " linear atelectasis is seen at the " + side + " base.", fi, ATELECTASIS);
                    case 3 -> sent(cap(side) + " basilar atelectasis, " + adj + ".", fi, ATELECTASIS);
                    default -> sent("Streaky " + side + " basal opacity, likely " + adj + " atelectasis.", fi, ATELECTASIS, LUNG_OPACITY);
                };
            }
            case CARDIOMEGALY -> {
                String adv = pick(r, new String[][] {{"mildly"}, {"moderately"}, {"markedly", "severely"}}[lv]);
                String adj = pick(r, new String[][] {{"mild"}, {"moderate"}, {"marked", "severe"}}[lv]);
                int k = r.nextInt(5);
                yield switch (k) {
                    case 0 -> sent("The heart is " + adv + " enlarged.", fi, CARDIOMEGALY);
                    case 1 -> sent(cap(adj) + " cardiomegaly.", fi, CARDIOMEGALY);
                    case 2 -> sent("The cardiac silhouette is " + adv + " enlarged.", fi, CARDIOMEGALY);
                    case 3 -> sent("There is " + adj + " enlargement of the cardiac silhouette.", fi, CARDIOMEGALY);
                    default -> sent("Heart size is " + adv + " increased.", fi, CARDIOMEGALY);
                };
            }
            case CONSOLIDATION -> {
                String adj = pick(r, new String[][] {{"small", "subtle", "patchy"}, {"moderate", "focal"}, {"large", "dense", "extensive"}}[lv]);
                int k = r.nextInt(5);
                yield switch (k) {
                    case 0 -> sent("There is " + adj + " consolidation in the " + side + ".", fi, CONSOLIDATION);
                    case 1 -> sent(cap(adj) + " consolidation is seen in the " + side + ".", fi, CONSOLIDATION);
                    case 2 -> sent(cap(adj) + " airspace consolidation in the " + side + ".", fi, CONSOLIDATION);
                    case 3 -> sent(cap(side) + " consolidation.", fi, CONSOLIDATION);
                    default -> sent("There is " + adj + " airspace opacity in the " + side + " compatible with consolidation.", fi, CONSOLIDATION, LUNG_OPACITY);
                };
            }
            case EDEMA -> {
                String adj = pick(r, new String[][] {{"mild"}, {"moderate"}, {"severe", "marked"}}[lv]);
                int k = r.nextInt(5);
                yield switch (k) {
                    case 0 -> sent("There is " + adj + " pulmonary edema.", fi, EDEMA);
                    case 1 -> sent(cap(adj) + " pulmonary edema.", fi, EDEMA);
                    case 2 -> sent(cap(adj) + " bilateral perihilar haziness consistent with pulmonary edema.", fi, EDEMA, LUNG_OPACITY);
                    case 3 -> sent("Findings are consistent with " + adj + " interstitial pulmonary edema.", fi, EDEMA);
                    default -> sent("There are " + adj + " bilateral perihilar opacities compatible with edema.", fi, EDEMA, LUNG_OPACITY);
                };
            }
            case PLEURAL_EFFUSION -> {
                String adj = pick(r, new String[][] {{"small", "trace"}, {"moderate", "moderate-sized"}, {"large"}}[lv]);
                boolean both = loc == Location.BILATERAL;
                int k = r.nextInt(lv == 0 ? 5 : 4);
                if (both) {
                    yield switch (k) {
                        case 0 -> sent("There are " + adj + " bilateral pleural effusions.", fi, PLEURAL_EFFUSION);
                        case 1 -> sent(cap(adj) + " bilateral pleural effusions.", fi, PLEURAL_EFFUSION);
                        case 2 -> sent(cap(adj) + " pleural effusions are present on both sides.", fi, PLEURAL_EFFUSION);
                        case 3 -> sent("Bilateral pleural effusions, " + adj + ".", fi, PLEURAL_EFFUSION);
                        default -> sent("Blunting of both costophrenic angles is consistent with small bilateral pleural effusions.", fi, PLEURAL_EFFUSION);
                    };
                }
                yield switch (k) {
                    case 0 -> sent("There is a " + adj + " " + side + " pleural effusion.", fi, PLEURAL_EFFUSION);
                    case 1 -> sent(cap(adj) + " " + side + " pleural effusion.", fi, PLEURAL_EFFUSION);
                    case 2 -> sent(cap(adj) + " " + side + "-sided pleural effusion.", fi, PLEURAL_EFFUSION);
                    case 3 -> sent("A " + adj + " " + side + " pleural effusion is present.", fi, PLEURAL_EFFUSION);
                    default -> sent("Blunting of the " + side + " costophrenic angle is consistent with a small pleural effusion.", fi, PLEURAL_EFFUSION);
                };
            }
            case PNEUMOTHORAX -> {
                String adj = pick(r, new String[][] {{"small", "tiny"}, {"moderate", "moderate-sized"}, {"large"}}[lv]);
                int k = r.nextInt(4);
                yield switch (k) {
                    case 0 -> sent("There is a " + adj + " " + side + " apical pneumothorax.", fi, PNEUMOTHORAX);
                    case 1 -> sent(cap(adj) + " " + side + " pneumothorax.", fi, PNEUMOTHORAX);
                    case 2 -> sent("A " + adj + " " + side + "-sided pneumothorax is seen at the apex.", fi, PNEUMOTHORAX);
                    default -> sent("A " + side + " apical pleural line with absent lung markings beyond it indicates a " + adj + " pneumothorax.", fi, PNEUMOTHORAX);
                };
            }
        };
    }

    private static Sent impressionSentence(FindingInstance f, SplittableRandom r) {
        int lv = f.severity().level();
        String side = f.location().words();
        Finding fi = f.finding();
        String sev = new String[] {"mild", "moderate", "severe"}[lv];
        String size = new String[] {"small", "moderate", "large"}[lv];
        boolean alt = r.nextBoolean();
        return switch (fi) {
            case ATELECTASIS -> sent(alt ? cap(sev) + " " + side + " basilar atelectasis." : cap(side) + " basilar atelectasis.", fi, ATELECTASIS);
            case CARDIOMEGALY -> sent(alt ? cap(sev) + " cardiomegaly." : "Cardiomegaly is noted.", fi, CARDIOMEGALY);
            case CONSOLIDATION -> sent(alt ? cap(side) + " consolidation." : cap(side) + " consolidation, " + size + " in extent.", fi, CONSOLIDATION);
            case EDEMA -> sent(alt ? cap(sev) + " pulmonary edema." : "Pulmonary edema, " + sev + ".", fi, EDEMA);
            case PLEURAL_EFFUSION -> sent(f.location() == Location.BILATERAL
                    ? cap(size) + " bilateral pleural effusions."
                    : alt ? cap(size) + " " + side + " pleural effusion." : cap(side) + " pleural effusion.", fi, PLEURAL_EFFUSION);
            case PNEUMOTHORAX -> sent(alt ? cap(size) + " " + side + " pneumothorax." : cap(side) + " apical pneumothorax.", fi, PNEUMOTHORAX);
        };
    }

    // ---- negations of absent findings ----------------------------------------------------------------

    private static List<Sent> negations(Set<Finding> present, SplittableRandom r) {
        EnumSet<Finding> neg = EnumSet.noneOf(Finding.class);
        for (Finding f : new Finding[] {Finding.CONSOLIDATION, Finding.EDEMA, Finding.PLEURAL_EFFUSION, Finding.PNEUMOTHORAX, Finding.ATELECTASIS}) {
            double p = f == Finding.ATELECTASIS ? 0.1 : 0.65;
            if (!present.contains(f) && r.nextDouble() < p) {
                neg.add(f);
            }
        }
        List<Sent> out = new ArrayList<>();
        if (neg.containsAll(EnumSet.of(Finding.CONSOLIDATION, Finding.PLEURAL_EFFUSION, Finding.PNEUMOTHORAX)) && r.nextBoolean()) {
            out.add(new Sent(pick(r, "No focal consolidation, pleural effusion, or pneumothorax.",
                    "There is no focal consolidation, pleural effusion or pneumothorax."), null, NONE,
                    new int[] {CONSOLIDATION, PLEURAL_EFFUSION, PNEUMOTHORAX}));
            neg.removeAll(EnumSet.of(Finding.CONSOLIDATION, Finding.PLEURAL_EFFUSION, Finding.PNEUMOTHORAX));
        }
        Object[][] pairs = {
            {Finding.PLEURAL_EFFUSION, Finding.PNEUMOTHORAX, new String[] {"No pleural effusion or pneumothorax.", "There is no pleural effusion or pneumothorax."}},
            {Finding.CONSOLIDATION, Finding.PLEURAL_EFFUSION, new String[] {"No pleural effusion or focal consolidation.", "No focal consolidation or pleural effusion."}},
            {Finding.CONSOLIDATION, Finding.PNEUMOTHORAX, new String[] {"No focal consolidation or pneumothorax."}},
            {Finding.EDEMA, Finding.PLEURAL_EFFUSION, new String[] {"No pulmonary edema or pleural effusion."}},
        };
        for (Object[] pr : pairs) {
            Finding a = (Finding) pr[0];
            Finding b = (Finding) pr[1];
            if (neg.contains(a) && neg.contains(b) && r.nextBoolean()) {
                out.add(new Sent(pick(r, (String[]) pr[2]), null, NONE, new int[] {labelIndex(a), labelIndex(b)}));
                neg.remove(a);
                neg.remove(b);
            }
        }
        for (Finding f : neg) {
            String text = switch (f) {
                case PNEUMOTHORAX -> pick(r, "No pneumothorax.", "There is no pneumothorax.", "No evidence of pneumothorax.");
                case PLEURAL_EFFUSION -> pick(r, "No pleural effusion.", "There is no pleural effusion.", "No pleural effusions are seen.");
                case CONSOLIDATION -> pick(r, "No focal consolidation.", "There is no focal consolidation.", "No consolidation is seen.");
                case EDEMA -> pick(r, "No pulmonary edema.", "There is no pulmonary edema.", "No evidence of pulmonary edema.");
                case ATELECTASIS -> "No atelectasis.";
                case CARDIOMEGALY -> "No cardiomegaly.";
            };
            out.add(new Sent(text, null, NONE, new int[] {labelIndex(f)}));
        }
        shuffle(out, r);
        return out;
    }

    static int labelIndex(Finding f) {
        return switch (f) {
            case ATELECTASIS -> ATELECTASIS;
            case CARDIOMEGALY -> CARDIOMEGALY;
            case CONSOLIDATION -> CONSOLIDATION;
            case EDEMA -> EDEMA;
            case PLEURAL_EFFUSION -> PLEURAL_EFFUSION;
            case PNEUMOTHORAX -> PNEUMOTHORAX;
        };
    }

    // ---- helpers -------------------------------------------------------------------------------------

    private static Sent sent(String text, Finding f, int... pos) {
        return new Sent(text, f, pos, NONE);
    }

    private static FindingInstance find(List<FindingInstance> fs, Finding f) {
        for (FindingInstance x : fs) {
            if (x.finding() == f) {
                return x;
            }
        }
        return null;
    }

    private static String pick(SplittableRandom r, String... options) {
        return options[r.nextInt(options.length)];
    }

    private static String cap(String s) {
        return s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1);
    }

    private static <T> void shuffle(List<T> list, SplittableRandom r) {
        for (int i = list.size() - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            T tmp = list.get(i);
            list.set(i, list.get(j));
            list.set(j, tmp);
        }
    }
}
