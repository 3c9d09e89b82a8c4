"""The compliance archive's pure logic (SEC 17a-4 WORM storage with a hash chain): no Kafka, no S3, no clock.

    retention.py   record classes (trade records and ledgers, orders, other) and their retain-until dates
    slicing.py     a partition's records cut into time slices (one archive object each)
    container.py   a slice as an Avro object container file with the writer schema inside, and back
    manifest.py    the manifest of a slice (object hashes, counts, offset ranges, previous manifest's
                   hash) and the object, manifest and root keys
    chain.py       the checks of `audit verify`: hash chain, contiguous offsets, objects against manifests
    comparison.py  a partition's archived records against its topic's, a slice at a time (offset runs)
    root.py        the signed daily root over every chain (ed25519)

The connector (`connectors.s3archive`) reads the topics and the bucket and calls these; so does the
verifier, so what is written and what is checked come from the same definitions.
"""
