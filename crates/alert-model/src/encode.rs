//! Writing alerts as survey packets (for the simulator, replays, tests and benchmarks): ZTF-style
//! Avro container files and Rubin-style Confluent-framed messages, using apache-avro.
