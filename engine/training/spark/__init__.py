"""The Spark training backend (issue 18): the heavy counting of the lookalike, tags and
songs kinds as Spark DataFrame jobs over a Parquet snapshot of the store (or JDBC), so
that the Python driver holds counts and vectors, never the posts. pyspark is optional
(requirements-spark.txt); nothing here is imported unless `--backend spark` is asked."""
