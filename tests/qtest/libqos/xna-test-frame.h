/*
 * xna-test-frame: the UDP test frames the qtests and the benchmark send
 * through the devices
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TESTS_QTEST_XNA_TEST_FRAME_H
#define TESTS_QTEST_XNA_TEST_FRAME_H

/*
 * Write a UDP/IPv4 frame of @len bytes (at least 42) into @f: a valid IP
 * header checksum, no UDP checksum, and a payload that depends on @seq
 * (and holds @seq itself in its first 4 bytes when there is room), so
 * that frames of a sequence differ and a mixed-up byte shows.
 * Returns @len.
 */
size_t xna_test_udp4_frame(uint8_t *f, size_t len, const uint8_t *dmac,
                           const uint8_t *smac, const uint8_t *sip,
                           const uint8_t *dip, uint16_t sport,
                           uint16_t dport, uint32_t seq);

/*
 * The same over IPv6 (@sip, @dip: 16 bytes; @len at least 62), with no
 * UDP checksum: the devices classify frames, they do not check them.
 */
size_t xna_test_udp6_frame(uint8_t *f, size_t len, const uint8_t *dmac,
                           const uint8_t *smac, const uint8_t *sip,
                           const uint8_t *dip, uint16_t sport,
                           uint16_t dport, uint32_t seq);

#endif /* TESTS_QTEST_XNA_TEST_FRAME_H */
