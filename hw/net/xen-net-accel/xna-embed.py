#!/usr/bin/env python3
# Turn a binary file (the compiled XDP program) into a C source file
# defining xna_afxdp_bpf_obj[] and xna_afxdp_bpf_obj_len, so that QEMU
# carries the program and nothing is installed beside the binary.
#
# SPDX-License-Identifier: GPL-2.0-or-later

import sys


def main():
    src, dst = sys.argv[1], sys.argv[2]
    with open(src, 'rb') as f:
        data = f.read()
    lines = []
    for i in range(0, len(data), 12):
        lines.append('    ' + ' '.join('0x%02x,' % b for b in data[i:i + 12]))
    with open(dst, 'w') as f:
        f.write('/* Generated from %s by xna-embed.py: do not edit. */\n'
                % src.split('/')[-1])
        f.write('#include <stddef.h>\n\n')
        f.write('const unsigned char xna_afxdp_bpf_obj[] '
                '__attribute__((aligned(8))) = {\n')
        f.write('\n'.join(lines) + '\n};\n')
        f.write('const size_t xna_afxdp_bpf_obj_len = %d;\n' % len(data))


if __name__ == '__main__':
    main()
