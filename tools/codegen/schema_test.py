"""Unit tests of the generator's naming and version rules (run by ctest)."""

import unittest

from schema import Versions, field_name, snake
from cpp_types import version_test


class naming(unittest.TestCase):
    def test_snake_case(self):
        cases = {
            "ProducerIdBlockStart": "producer_id_block_start",
            "IsrNodes": "isr_nodes",
            "ISRNodes": "isr_nodes",
            "TopicId": "topic_id",
            "KRaftVersionFeature": "k_raft_version_feature",
            "StopReplicaPartitionV0": "stop_replica_partition_v0",
            "V3AndBelowTopics": "v3_and_below_topics",
            "protocolType": "protocol_type",
            "isKRaftController": "is_k_raft_controller",
            "ThrottleTimeMs": "throttle_time_ms",
        }
        for camel, expected in cases.items():
            self.assertEqual(snake(camel), expected, camel)

    def test_keywords_get_an_underscore(self):
        self.assertEqual(field_name("Default"), "default_")
        self.assertEqual(field_name("Delete"), "delete_")


class versions(unittest.TestCase):
    def test_parse(self):
        self.assertEqual(str(Versions.parse("3+")), "3+")
        self.assertEqual(str(Versions.parse("0-4")), "0-4")
        self.assertTrue(Versions.parse("none").empty())
        self.assertEqual(str(Versions.parse("3+").intersect(Versions.parse("0-11"))), "3-11")

    def test_version_test(self):
        ctx = Versions.parse("0-11")
        self.assertIsNone(version_test(Versions.parse("0+"), ctx))
        self.assertEqual(version_test(Versions.parse("3+"), ctx), "version >= 3")
        self.assertEqual(version_test(Versions.parse("0-4"), ctx), "version <= 4")
        self.assertEqual(version_test(Versions.parse("7"), ctx), "version == 7")
        self.assertEqual(version_test(Versions.parse("12+"), ctx), "false")
        self.assertEqual(version_test(Versions.parse("3+"), Versions.parse("3-11")), None)


if __name__ == "__main__":
    unittest.main()
