package dev.binmos.engine.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.binmos.engine.model.Configuration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PodGroupsTest {

    @Test
    void parsesAndPrintsPerLayerAndPerKvHeadGroupings() {
        PodGroups perLayer = PodGroups.parse("0-1, 2 ,3-5", 6, 2);
        assertTrue(perLayer.perLayer());
        assertEquals("0-1,2,3-5", perLayer.toString());
        int[] anchors = {0, 0, 2, 3, 3, 3};
        for (int l = 0; l < 6; l++) {
            assertEquals(anchors[l], perLayer.anchor(l, 0));
            assertEquals(anchors[l], perLayer.anchor(l, 1));
        }
        assertEquals(3.0 / 6, perLayer.borrowingShare(), 1e-12);

        PodGroups perHead = PodGroups.parse("0-5;0,1,2,3,4,5", 6, 2);
        assertFalse(perHead.perLayer());
        assertEquals(5, perHead.anchor(5, 1) + 5 * perHead.anchor(5, 0));
        assertEquals(5.0 / 12, perHead.borrowingShare(), 1e-12);
        assertEquals(perHead, PodGroups.parse(perHead.toString(), 6, 2));
        assertEquals(PodGroups.separate(6, 2), PodGroups.parse("0,1,2,3,4,5", 6, 2));
    }

    @Test
    void refusesGroupingsThatDoNotCoverTheLayersInOrder() {
        for (String bad : new String[] {"1-5", "0-2,4-5", "0-3", "0-6", "0-2,2-5", "0-1;0-5;0-5", "a-b", "0-1-2,3-5", "3-1,0"}) {
            assertThrows(IllegalArgumentException.class, () -> PodGroups.parse(bad, 6, 2), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> PodGroups.of(3, 1, new int[] {0, 1, 0}));
    }

    @Test
    void forcedAnchorsSplitGroupsAndKeepTheRest() {
        PodGroups groups = PodGroups.parse("0-5;0-1,2-5", 6, 2);
        PodGroups split = groups.withForcedAnchors(3);
        assertEquals("0-2,3-5;0-1,2,3-5", split.toString());
        assertEquals(split, split.withForcedAnchors(3, 0));
        assertThrows(IllegalArgumentException.class, () -> groups.withForcedAnchors(6));
    }

    @Test
    void layoutRoundTripsThroughMetadata() {
        Configuration c = new Configuration(16, 16, 6, 2, 2, 8, 64, 10000f, 1e-5f);
        PodLayout layout = new PodLayout(4, 64, PodMode.SHARED_SCORES, PodGroups.parse("0-2,3-5", 6, 2));
        assertEquals(layout, PodLayout.fromMetadata(layout.metadata(), c).orElseThrow());
        assertTrue(PodLayout.fromMetadata(Map.of("general.name", "x"), c).isEmpty());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PodLayout.fromMetadata(Map.of(PodLayout.GROUPS, "0-2,3-5", PodLayout.WINDOW, -1L), c));
        assertTrue(e.getMessage().contains("pod.window"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new PodKvCache(c, 8, new PodLayout(4, 8, PodMode.SHARED_KEYS,
                PodGroups.parse("0-6", 7, 2)), KvPrecision.F32));
    }
}
