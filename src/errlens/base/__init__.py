"""Layer 1: helpers every other layer may import (and that import nothing of errlens above)."""
