package yamltext

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// yamlLibraryParse is the reference: the YAML library's own parser.
func yamlLibraryParse(raw []byte) (*yaml.Node, error) {
	var doc yaml.Node
	err := yaml.Unmarshal(raw, &doc)
	return &doc, err
}

// nodeTree prints what the renderer reads of a node tree: kinds, styles,
// tags, values and positions; comments are left out on purpose.
func nodeTree(n *yaml.Node) string {
	var b strings.Builder
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		fmt.Fprintf(&b, "%*s%d/%d %s %q @%d:%d\n", 2*depth, "", n.Kind, n.Style, n.Tag, n.Value, n.Line, n.Column)
		for _, c := range n.Content {
			walk(c, depth+1)
		}
	}
	walk(n, 0)
	return b.String()
}

// checkAgainstLibrary fails when the fast parser accepts raw but builds a
// different tree than the YAML library, or accepts what the library refuses.
func checkAgainstLibrary(t *testing.T, raw []byte) (accepted bool) {
	t.Helper()
	fast, ok := parseBlockYAML(raw)
	if !ok {
		return false
	}
	want, err := yamlLibraryParse(raw)
	if err != nil {
		t.Fatalf("fast parser accepted what the YAML library refuses (%v):\n%s", err, raw)
	}
	if got, want := nodeTree(fast), nodeTree(want); got != want {
		t.Fatalf("trees differ for\n%s\nfast:\n%s\nlibrary:\n%s", raw, got, want)
	}
	return true
}

func TestBlockYAMLMatchesTheLibrary(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		accept bool
	}{
		{"Helm claim", "---\n# Source: app/templates/pvc.yaml\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data-99\n  labels:\n    app.kubernetes.io/name: app\nspec:\n  accessModes:\n    - \"ReadWriteOnce\"\n  resources:\n    requests:\n      storage: \"1Gi\"\n", true},
		{"separator, source comment, nested mappings", "---\n# Source: a/b.yaml\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n  labels:\n    app: x\n", true},
		{"sequence at the key's column", "spec:\n  accessModes:\n  - ReadWriteOnce\n  - ReadOnlyMany\n", true},
		{"indented sequence of mappings", "items:\n  - name: a\n    value: '1'\n  - name: b\n    spec:\n      x: \"2\"\n", true},
		{"typed scalars", "a: 1\nb: true\nc: null\nd: ~\ne: 1.5\nf: 2001-12-14\ng: 0x1F\n", true},
		{"single quotes doubled", "a: 'it''s'\nb: ''\n", true},
		{"URLs and hashes inside plain scalars", "a: http://x:80/p#frag\nb: a#b\n", true},
		{"comment lines anywhere", "# head\na:\n  # inside\n  b: c\n\n# tail\n", true},
		{"flow mapping", "a: {b: c}\n", true},
		{"flow sequence", "a: [b]\n", true},
		{"nested flow, as kubectl's snapshot lines", "spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}, volumeName: pv-1}\n", true},
		{"flow with quotes, spaces and empties", "a: { b: 'c d' , e: \"f\", g: [], h: {} }\n", true},
		{"flow items", "a:\n- {b: c}\n- [d, 1]\n", true},
		{"flow over two lines", "a: {b: c,\n  d: e}\n", false},
		{"flow with a trailing comma", "a: [b, ]\n", false},
		{"flow with a quoted key", "a: {'b': c}\n", false},
		{"flow with a colon in a value", "a: {b: c:d}\n", false},
		{"flow with text after it", "a: [b] c\n", false},
		{"JSON", `{"a": "b"}`, false},
		{"anchor and alias", "a: &x b\nc: *x\n", false},
		{"tag", "a: !!str 1\n", false},
		{"block scalar", "a: |\n  text\n", false},
		{"plain scalar over two lines", "a: b\n  c\n", false},
		{"trailing comment", "a: b # note\n", false},
		{"null value", "a:\nb: c\n", false},
		{"escape", `a: "\x41"` + "\n", false},
		{"CRLF", "a: b\r\n", false},
		{"tab", "a:\tb\n", false},
		{"non-ASCII", "a: é\n", false},
		{"quoted key", "'a': b\n", false},
		{"Document end marker", "a: b\n...\n", false},
		{"second Document", "a: b\n---\nc: d\n", false},
		{"separator with a comment", "--- # x\na: b\n", false},
		{"comment-only Document", "---\n# nothing\n", false},
		{"scalar Document", "hello\n", false},
		{"broken single quotes", "a: 'x' 'y'\n", false},
		{"deeper line after a scalar", "a: b\n    c: d\n", false},
		{"dash alone", "a:\n-\n  b\n", false},
		{"mapping value in a plain scalar", "a: b: c\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkAgainstLibrary(t, []byte(tt.in)); got != tt.accept {
				t.Errorf("accepted = %v, want %v for\n%s", got, tt.accept, tt.in)
			}
		})
	}
}

// addGoldenDocuments seeds a fuzz target with every document of the golden
// cases' inputs.
func addGoldenDocuments(f *testing.F) {
	inputs, _ := filepath.Glob("../../testdata/render/*/input.yaml")
	for _, path := range inputs {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		for doc := range Documents(data) {
			f.Add(doc.Raw)
		}
	}
}

// FuzzBlockYAML: whatever the fast parser accepts, the YAML library parses
// to the same tree.
func FuzzBlockYAML(f *testing.F) {
	addGoldenDocuments(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkAgainstLibrary(t, raw)
		checkDecodeAgainstLibrary(t, raw)
	})
}

// checkDecodeAgainstLibrary fails when Decode and the YAML library
// decode a document to different values.
func checkDecodeAgainstLibrary(t *testing.T, raw []byte) {
	t.Helper()
	doc, err := yamlLibraryParse(raw)
	if err != nil || len(doc.Content) == 0 {
		return
	}
	got, gotErr := Decode(doc.Content[0])
	var want any
	wantErr := doc.Content[0].Decode(&want)
	if (gotErr == nil) != (wantErr == nil) || (gotErr == nil && !reflect.DeepEqual(got, want)) {
		t.Fatalf("decoding\n%s\ngot %#v (%v)\nwant %#v (%v)", raw, got, gotErr, want, wantErr)
	}
}

func TestDecodeNodeMatchesTheLibrary(t *testing.T) {
	for _, in := range []string{
		"a: b\nc: [1, 2.5, true, null, x]\nd: {e: f}\n",
		"a: &x {b: c}\nd:\n  <<: *x\n  e: f\n",
		"a: 1\na: 2\n",
		"1: a\n? [b]\n: c\n",
		"a: !!binary aGk=\nb: 2001-12-14\nc: 0x1F\n",
		"a: |\n  text\nb: 'q'\n",
	} {
		checkDecodeAgainstLibrary(t, []byte(in))
	}
}
