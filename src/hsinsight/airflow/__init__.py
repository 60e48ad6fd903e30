"""hsinsight's Airflow side: what the DAG files in ``dags/`` import, and what runs them.

- :mod:`~hsinsight.airflow.assets`: the Airflow assets linking the ingest DAGs to the
  transform DAG;
- :mod:`~hsinsight.airflow.callbacks`: the wrapper every DAG task runs in, and the
  failure callback, which together record a failed task's error once;
- :mod:`~hsinsight.airflow.dbt_tasks`: the transform DAG's one dbt build and its per-node tasks;
- :mod:`~hsinsight.airflow.run_record`: the transform DAG's ``record_run`` task, which
  writes the run to the run log;
- :mod:`~hsinsight.airflow.environment`: the local Airflow home, its database and environment;
- :mod:`~hsinsight.airflow.runner`: ``hsinsight run --orchestrator airflow``, which
  starts :mod:`~hsinsight.airflow.driver` and reports what the DAG runs did;
- :mod:`~hsinsight.airflow.standalone`: ``hsinsight airflow``, a standalone Airflow.

Nothing is imported here, so that importing one module does not import the others.
Inside this package ``import airflow`` is Apache Airflow itself (imports are absolute).

See ``docs/airflow.md`` for the DAGs and the path a task's failure takes.
"""
