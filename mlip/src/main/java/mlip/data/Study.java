package mlip.data;

import java.nio.file.Path;

/**
 * One image of a MIMIC-CXR-JPG-layout study (from {@link MimicCxrJpg}), with its report file and labels.
 *
 * @param subjectId 8-digit subject id (its first two digits name the {@code files/p1X} folder)
 * @param studyId   8-digit study id
 * @param dicomId   image id (the JPEG's file name without ".jpg")
 * @param split     "train", "validate" or "test"
 * @param image     the JPEG
 * @param report    the report text file
 * @param labels14  the 14 CheXpert labels in {@link ChexpertLabels#LABELS} order: 1, 0, -1 (uncertain) or NaN
 *                  (not mentioned, or no row for the study in the chexpert CSV)
 */
public record Study(int subjectId, int studyId, String dicomId, String split, Path image, Path report, float[] labels14) {
}
