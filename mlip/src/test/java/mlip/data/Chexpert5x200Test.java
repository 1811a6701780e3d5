package mlip.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The 5x200 CSV reader on the real CheXpert column layout and on bad rows. */
class Chexpert5x200Test {

    @TempDir
    Path dir;

    @Test
    void readsTheRealCheXpertLayout() throws IOException {
        // the field's chexpert_5x200.csv: Path, Sex, Age, views, then all 14 labels (only the 5 matter)
        Path img = dir.resolve("CheXpert-v1.0/train/patient00001/study1");
        Files.createDirectories(img);
        Files.write(img.resolve("view1_frontal.jpg"), Images.encodeJpeg(new float[64], 8, 8, 0.9f));
        String header = "Path,Sex,Age,Frontal/Lateral,AP/PA," + String.join(",", ChexpertLabels.LABELS);
        String row = "CheXpert-v1.0/train/patient00001/study1/view1_frontal.jpg,Female,68,Frontal,AP,,,,1.0,,1.0,0.0,,,,,,,1.0";
        String missing = "CheXpert-v1.0/train/patient00002/study1/view1_frontal.jpg,Male,50,Frontal,AP,,,1.0,,,,,,,,,,,";
        Path csv = dir.resolve("chexpert_5x200.csv");
        Files.writeString(csv, header + "\n" + row + "\n" + missing + "\n");
        Chexpert5x200 ev = Chexpert5x200.load(csv);
        assertEquals(1, ev.items().size());
        assertEquals(1, ev.skipped());
        assertEquals("Edema", ev.items().get(0).className());
        assertEquals(3, ev.items().get(0).label());
        assertEquals(row.substring(0, row.indexOf(',')), ev.items().get(0).id());
        assertTrue(Files.isRegularFile(ev.items().get(0).image()));
    }

    @Test
    void rowWithTwoOrNoPositivesNamesFileAndLine() throws IOException {
        Path csv = dir.resolve("synthcxr-5x200.csv");
        Files.writeString(csv, "Path,Atelectasis,Cardiomegaly,Consolidation,Edema,Pleural Effusion,dicom_id\n"
                + "a.jpg,1.0,0.0,0.0,0.0,0.0,a\n"
                + "b.jpg,1.0,1.0,0.0,0.0,0.0,b\n");
        DataFileException e = assertThrows(DataFileException.class, () -> Chexpert5x200.load(csv));
        assertTrue(e.getMessage().startsWith("synthcxr-5x200.csv line 3: positive for both Atelectasis and Cardiomegaly"), e.getMessage());
        Files.writeString(csv, "Path,Atelectasis,Cardiomegaly,Consolidation,Edema,Pleural Effusion,dicom_id\n"
                + "b.jpg,0,0,0,0,0,b\n");
        e = assertThrows(DataFileException.class, () -> Chexpert5x200.load(csv));
        assertTrue(e.getMessage().startsWith("synthcxr-5x200.csv line 2: positive for none of"), e.getMessage());
    }
}
