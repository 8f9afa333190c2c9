// Package renderer rewrites the objects of a rendered manifest stream that
// its rules name (PersistentVolumeClaims by default) so that applying the
// stream never changes a field Kubernetes treats as immutable.
//
// The package is a pure transformation: bytes in, bytes out. What the cluster
// holds arrives through the LiveState interface, so the same Renderer runs as
// a Helm post-renderer, behind a rollback, against a snapshot file, or in a
// test. Documents that are not rewritten pass through byte for byte; a
// rewritten document differs only in the rewritten fields and one comment line
// per field that says what was preserved and why.
//
// Rules are data: rule sets in YAML (the embedded rulesets/storage.yaml is
// the default, others are opt-in or a user's --rules files) name a kind, a
// field path and a policy; the policies table says what each policy does.
// Adding a field means adding an entry (and its golden test case), not a
// branch.
package renderer
