"""Expand a oneheap .config or defconfig with kconfiglib.

usage: kconfig.py KCONFIG CONFIG OUT_DOTCONFIG OUT_VALUES

Loads the Kconfig tree and the configuration (a defconfig is a .config that
leaves symbols out; they take their defaults, as olddefconfig does), writes
the complete configuration to OUT_DOTCONFIG and one "SYMBOL=value" line per
symbol to OUT_VALUES for CMake. Any kconfiglib warning (an unknown symbol,
a value out of range) and any value that Kconfig cannot give (a dependency
rules it out) is an error: the configuration would not be built as written.
"""
import re
import sys

import kconfiglib


def main(argv):
    if len(argv) != 5:
        sys.stderr.write(__doc__)
        return 2
    kconfig, config, out_dotconfig, out_values = argv[1:]
    kconf = kconfiglib.Kconfig(kconfig, warn_to_stderr=False)
    kconf.warn_assign_undef = True      # a symbol that Kconfig does not define
    kconf.load_config(config)
    problems = ["%s: %s" % (config, w) for w in kconf.warnings]
    # kconfiglib drops, silently, a value that a dependency rules out
    for sym in kconf.unique_defined_syms:
        want = sym.user_value
        if want is None:
            continue
        if sym.orig_type in (kconfiglib.BOOL, kconfiglib.TRISTATE):
            got, want = sym.tri_value, want
            names = "nmy"
            if got != want:
                problems.append("%s: CONFIG_%s=%s cannot be honoured (it is %s: check what it depends on)"
                                % (config, sym.name, names[want], names[got]))
        elif sym.orig_type == kconfiglib.INT and re.match(r"^[+-]?0[0-9]", str(want)):
            problems.append("%s: CONFIG_%s=%s: write the number without leading zeros (C would read it as octal)"
                            % (config, sym.name, want))
        elif sym.str_value != str(want):
            problems.append("%s: CONFIG_%s=%s cannot be honoured (it is %s)"
                            % (config, sym.name, want, sym.str_value))
    if problems:
        sys.stderr.write("\n".join(problems) + "\n")
        return 1
    kconf.write_config(out_dotconfig, header="# oneheap, expanded from %s\n" % config)
    with open(out_values, "w") as out:
        for sym in kconf.unique_defined_syms:
            out.write("%s=%s\n" % (sym.name, sym.str_value))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
