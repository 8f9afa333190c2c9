// Package yamltext is the renderer's text layer: it cuts a manifest stream
// into documents without copying them, finds what a cheap scan lets
// through, parses plain block YAML with a fast parser of its own (and
// everything else with the YAML library, anchors resolved as Helm reads
// them), decodes nodes to plain values, and writes edits back so that a
// document changes only in the edited fields: as a text splice where the
// layout allows, else re-encoded. Paths name fields, list items by a field
// of theirs included. It knows nothing of rules or of the cluster.
package yamltext
