// Package renderer rewrites the PersistentVolumeClaims in a rendered manifest
// stream so that applying the stream never changes a field Kubernetes treats
// as immutable.
//
// The package is a pure transformation: bytes in, bytes out. What the cluster
// holds arrives through the LiveState interface, so the same Renderer runs as
// a Helm post-renderer, behind a rollback, against a snapshot file, or in a
// test. Documents that are not rewritten pass through byte for byte; a
// rewritten document differs only in the rewritten fields and one comment line
// per field that says what was preserved and why.
//
// Each immutable field is a Rule in DefaultRules: rules are data, so adding a
// field means adding an entry (and its golden test case), not a branch.
package renderer
