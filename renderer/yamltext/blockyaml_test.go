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
	fast, ok := parseBlockYAML(raw, nil)
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
			checkReach(t, []byte(tt.in))
		})
	}
}

func TestReachLeavesOutTheRest(t *testing.T) {
	in := "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\nspec:\n  replicas: 3\n  template:\n    metadata:\n      labels: {a: b}\n    spec:\n      containers:\n      - name: db\n        image: \"x\"\n  serviceName: db\n"
	checkReach(t, []byte(in))
	doc, ok := parseBlockYAML([]byte(in), testReach())
	if !ok {
		t.Fatal("refused")
	}
	got, err := Decode(doc.Content[0])
	want := map[string]any{"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": map[string]any{"name": "db"},
		"spec": map[string]any{"serviceName": "db", "template": map[string]any{"metadata": map[string]any{"labels": map[string]any{"a": "b"}}}}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("decoded %v (%v), want %v", got, err, want)
	}
	if _, ok := parseBlockYAML([]byte(in+"  x: |\n    block\n"), testReach()); ok {
		t.Error("a block scalar outside the reach is accepted; the parser must refuse what it refuses inside it")
	}
}

// testReach is a reach like the renderer's: an object's identity, some
// fields, a list kept whole, and a List's items.
func testReach() *Reach {
	var paths []Path
	for _, text := range []string{"apiVersion", "kind", "metadata", "a.b", "spec.selector", "spec.serviceName",
		"spec.template.metadata.labels", "spec.volumeClaimTemplates[metadata.name=*].spec"} {
		p, err := ParsePath(text)
		if err != nil {
			panic(err)
		}
		paths = append(paths, p)
	}
	r := ReachOf(paths)
	r.Recurse("items")
	return r
}

// checkReach fails when the fast parser with a reach accepts other
// documents than without one, or builds anything but the whole tree with
// the values outside the reach left out.
func checkReach(t *testing.T, raw []byte) {
	t.Helper()
	whole, ok := parseBlockYAML(raw, nil)
	pruned, prunedOK := parseBlockYAML(raw, testReach())
	if ok != prunedOK {
		t.Fatalf("accepted %v without a reach, %v with one:\n%s", ok, prunedOK, raw)
	}
	if !ok {
		return
	}
	if got, want := nodeTree(pruned), nodeTree(restrict(whole, testReach())); got != want {
		t.Fatalf("trees differ for\n%s\nwith a reach:\n%s\nwhole, restricted:\n%s", raw, got, want)
	}
}

// restrict copies a whole tree with the values outside the reach replaced
// as the parser replaces them; a flow collection is read whole.
func restrict(n *yaml.Node, reach *Reach) *yaml.Node {
	if n.Style&yaml.FlowStyle != 0 {
		return n
	}
	out := *n
	out.Content = nil
	for i := 0; i < len(n.Content); i++ {
		c := n.Content[i]
		if n.Kind != yaml.MappingNode || i%2 == 1 {
			out.Content = append(out.Content, restrict(c, reach))
			continue
		}
		out.Content = append(out.Content, c)
		if child, ok := reach.child(c.Value); !ok {
			out.Content = append(out.Content, unreached)
		} else {
			out.Content = append(out.Content, restrict(n.Content[i+1], child))
		}
		i++
	}
	return &out
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
// to the same tree, and with a reach the fast parser accepts the same and
// builds that tree with what is outside the reach left out.
func FuzzBlockYAML(f *testing.F) {
	addGoldenDocuments(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkAgainstLibrary(t, raw)
		checkDecodeAgainstLibrary(t, raw)
		checkReach(t, raw)
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

// manyKeys is a mapping of n keys, the last one twice if twice is set.
func manyKeys(n int, twice bool) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "k%d: v\n", i)
	}
	if twice {
		fmt.Fprintf(&b, "k%d: w\n", n-1)
	}
	return b.String()
}

func TestDecodeNodeMatchesTheLibrary(t *testing.T) {
	for _, in := range []string{
		"a: b\nc: [1, 2.5, true, null, x]\nd: {e: f}\n",
		"a: &x {b: c}\nd:\n  <<: *x\n  e: f\n",
		"a: 1\na: 2\n",
		"1: a\n? [b]\n: c\n",
		"a: !!binary aGk=\nb: 2001-12-14\nc: 0x1F\n",
		"a: |\n  text\nb: 'q'\n",
		manyKeys(20, false), manyKeys(20, true),
	} {
		checkDecodeAgainstLibrary(t, []byte(in))
	}
}
