-- Measurements no longer carry foreign keys to `objects`.
--
-- Every write creates and locks the object row (`SELECT … FOR UPDATE`) before it inserts the
-- object's measurements in the same transaction (crates/store/src/postgres/write.rs), so the
-- per-row referential check (one extra lookup and key-share lock per inserted row) could never
-- fail, and it cost about a fifth of the ingest rate of new objects at 1,000,000 stored objects
-- (docs/benchmarks.md). `classifications` keeps its key: recording a classification for an
-- unknown object is an error the store reports (23503).
ALTER TABLE detections DROP CONSTRAINT IF EXISTS detections_survey_object_id_fkey;
ALTER TABLE forced_photometry DROP CONSTRAINT IF EXISTS forced_photometry_survey_object_id_fkey;
ALTER TABLE upper_limits DROP CONSTRAINT IF EXISTS upper_limits_survey_object_id_fkey;
