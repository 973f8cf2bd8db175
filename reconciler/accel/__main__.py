import sys

from reconciler.accel.build import main

sys.exit(main())
