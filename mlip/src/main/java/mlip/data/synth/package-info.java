/**
 * SynthCXR, the built-in synthetic chest X-ray data set (DESIGN.md section 8): {@link mlip.data.synth.SynthCxr}
 * generates seeded studies (image, report, CheXpert labels, per-finding masks) and writes them in the
 * MIMIC-CXR-JPG layout plus a 5x200 evaluation split and localisation annotations.
 *
 * <p>Where the design decisions live: {@code Anatomy} (geometry, laterality convention: the image's left
 * half is the patient's right), {@code Lesion} (how each finding is drawn and why it is this hard),
 * {@code Renderer} (composition order and scanners), {@code Reports} (sentences, negations, labels).
 */
package mlip.data.synth;
