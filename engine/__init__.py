"""Scout's engine: algorithms, the daily training pipeline and the Recommender facade."""

import pandas as _pd

# pandas 3 stores text in pyarrow when pyarrow is installed (the Spark backend brings it)
# and in Python objects otherwise, and the two differ at the edges (pyarrow refuses to
# compare an all-missing text column with numbers). One storage everywhere, so Scout
# behaves the same with and without the optional Spark packages.
_pd.set_option("mode.string_storage", "python")
