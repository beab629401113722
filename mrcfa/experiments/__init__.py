"""The experiments files, read once for everyone: the engine, the Snakefile, the DVC side and `analysis`.

    jobs.py      the plan of jobs: every job of a profile with its inputs, outputs, resources and command,
                 which the Snakefile runs and dvc.yaml is generated from
    registry.py  the registry: runs, tables and figures, released checkpoints, claims; resolving a run
    profiles.py  profiles (`extends:`), seeds, datasets, resources, typed
    resolve.py   a run's config at a profile's scale, `--set` variants
    tables.py    table, row and figure specs
    claims.py    the paper's claims and each row's reference row
    schema.py    JSON Schemas of the files (experiments/schemas/)
    files.py     YAML reading and merging

The typed run config itself (sections, validation, canonical hash) is `mrcfa.config`; the synthetic benchmark's
generator settings, typed, are `mrcfa.data.synth_settings`. No torch anywhere here.
"""
