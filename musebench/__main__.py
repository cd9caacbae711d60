import sys

from musebench.cli.main import main

sys.exit(main())
