import sys

from mmicd.cli import main

sys.exit(main())
