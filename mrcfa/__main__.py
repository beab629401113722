import sys

from mrcfa.cli import main

sys.exit(main())
