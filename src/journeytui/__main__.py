"""`journeytui` console script and `python -m journeytui`."""

import sys


def main() -> None:
    from journeytui.cli import main as cli_main

    sys.exit(cli_main())


if __name__ == "__main__":
    main()
