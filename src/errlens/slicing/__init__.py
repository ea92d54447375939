"""Where the model fails: segments, slice statistics, heatmaps, cohorts, confusion tables,
the error tree and automatic slice discovery."""
