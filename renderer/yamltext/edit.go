package yamltext

import (
	"errors"
	"fmt"
	"slices"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Edit sets one field of one object in a document to a value, or
// removes it.
type Edit struct {
	Item   int // index in a List's items, or -1 for the document's own object
	Path   Path
	Value  any
	Remove bool
}

// errNeedsReencode tells Apply that a text splice is not safe here (a
// flow-style mapping such as a JSON Document, a key that does not start its
// line, or two edits touching the same lines) and the document must be
// re-encoded instead.
var errNeedsReencode = errors.New("Document layout needs re-encoding")

// Apply rewrites a document so it differs from raw only in the edited
// fields, then adds one comment line per note below the document's leading
// comments. Block-style YAML (what Helm renders) is edited as text, so
// quoting, comments, key order and blank lines elsewhere survive; other
// layouts fall back to re-encoding the document. doc is raw parsed; a
// splice of a plain document needs no reading back (see
// FuzzSplicePlainDocuments).
func Apply(raw []byte, doc Parsed, edits []Edit, notes []string) ([]byte, error) {
	if doc.Resolved {
		text, err := encodeEdited(raw, doc.Node, edits)
		if err != nil {
			return nil, err
		}
		return insertNotes(text, notes), nil
	}
	text, err := spliceEdits(raw, doc.Node, edits)
	if err == nil && !doc.Plain && !meansEdited(text, doc.Node, edits) {
		err = errNeedsReencode
	}
	if errors.Is(err, errNeedsReencode) {
		text, err = reencode(raw, edits)
	}
	if err != nil {
		return nil, err
	}
	return insertNotes(text, notes), nil
}

// meansEdited reads a spliced document back and reports whether it holds
// exactly the original values with the edits applied. Text splicing trusts
// indentation, which is exact for plain block YAML; any other layout it
// misjudges (a multi-line quoted scalar, say) must never reach the cluster,
// so such a document is re-encoded instead.
func meansEdited(text []byte, doc *yaml.Node, edits []Edit) bool {
	want, err := Decode(objectNode(doc, -1))
	if err != nil {
		return false
	}
	for _, edit := range edits {
		if want, err = applyToValue(want, edit); err != nil {
			return false
		}
	}
	spliced, err := Parse(text)
	if err != nil || len(spliced.Node.Content) == 0 {
		return false
	}
	got, err := Decode(spliced.Node.Content[0])
	if err != nil {
		return false
	}
	return sameValue(got, want)
}

// applyToValue applies an edit to a document decoded to plain values.
func applyToValue(root any, edit Edit) (any, error) {
	if edit.Item < 0 {
		return valueWithEdit(root, edit.Path, edit)
	}
	items, _ := ValueAt(root, []string{"items"}).([]any)
	if edit.Item >= len(items) {
		return nil, fmt.Errorf("object %d is gone from the Document", edit.Item)
	}
	obj, err := valueWithEdit(items[edit.Item], edit.Path, edit)
	items[edit.Item] = obj
	return root, err
}

// valueWithEdit returns v with the edit applied at path, creating mappings
// and lists on the way (in place of anything else, as a splice writes
// them); an edit that removes what is not there changes nothing.
func valueWithEdit(v any, path Path, edit Edit) (any, error) {
	step, last := path[0], len(path) == 1
	if step.IsList() {
		items, ok := v.([]any)
		if !ok && edit.Remove {
			return v, nil
		}
		i := slices.IndexFunc(items, step.matches)
		switch {
		case last && edit.Remove && i >= 0:
			return slices.Delete(items, i, i+1), nil
		case last && edit.Remove, !last && i < 0 && edit.Remove:
			return v, nil
		case last && i >= 0:
			items[i] = edit.Value
			return items, nil
		case last:
			return append(items, edit.Value), nil
		case i < 0:
			return nil, fmt.Errorf("no list item %s to edit", Path{step})
		}
		child, err := valueWithEdit(items[i], path[1:], edit)
		items[i] = child
		return items, err
	}
	m, ok := v.(map[string]any)
	switch {
	case !ok && edit.Remove:
		return v, nil
	case !ok:
		m = map[string]any{}
	}
	if last {
		if edit.Remove {
			delete(m, step.Key)
		} else {
			m[step.Key] = edit.Value
		}
		return m, nil
	}
	child, err := valueWithEdit(m[step.Key], path[1:], edit)
	if child != nil {
		m[step.Key] = child
	}
	return m, err
}

// nested wraps value along path: nested(a.b, v) = {a: {b: v}}, and a list
// step makes a list of one item named as the step says.
func nested(path Path, value any) any {
	for i := len(path) - 1; i >= 0; i-- {
		step := path[i]
		if !step.IsList() {
			value = map[string]any{step.Key: value}
			continue
		}
		item, _ := value.(map[string]any)
		if i < len(path)-1 || item == nil {
			// The item holds a field deeper down: it needs its name too.
			named, _ := valueWithEdit(item, keyPath(step.ItemKey), Edit{Value: step.Item})
			item, _ = named.(map[string]any)
		}
		value = []any{item}
	}
	return value
}

func keyPath(keys []string) Path {
	p := make(Path, len(keys))
	for i, k := range keys {
		p[i] = Step{Key: k}
	}
	return p
}
