package renderer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/pvc-guard/pvc-guard/renderer/yamltext"
	"io"
	"regexp"
	"runtime"
	"slices"
	"strconv"

	"k8s.io/apimachinery/pkg/util/version"
)

// ConflictPolicy decides what happens when the chart asks for a change that
// Kubernetes refuses.
type ConflictPolicy string

const (
	// Fail refuses the whole render and lists every conflict.
	Fail ConflictPolicy = "fail"
	// KeepLive submits the live value and reports that it did.
	KeepLive ConflictPolicy = "keep-live"
)

// Renderer rewrites the objects of a manifest stream that rules name, so
// they agree with the live cluster. It implements Helm's post-renderer
// interface (Run) for Helm 3's pkg/postrender and Helm 4's
// pkg/postrenderer.
type Renderer struct {
	// Live is where live objects come from.
	Live LiveState
	// Namespace applies to documents without metadata.namespace.
	Namespace string
	// OnConflict defaults to Fail.
	OnConflict ConflictPolicy
	// Rules are the rule sets to apply; nil means the default set alone.
	Rules []*RuleSet
	// KubeVersion is the API server's version (as "1.34" or "v1.34.2"),
	// which decides the rules that only hold on older servers; empty
	// means the newest server the rules know.
	KubeVersion string
}

// Run implements Helm's post-renderer interface.
func (r *Renderer) Run(rendered *bytes.Buffer) (*bytes.Buffer, error) {
	out, _, err := r.Render(context.Background(), rendered.Bytes())
	if err != nil {
		return nil, err
	}
	return bytes.NewBuffer(out), nil
}

// Render rewrites the stream and returns it whole. On error the output is
// nil, so a caller never forwards a half-rewritten stream; the report is
// returned whenever the claims could be compared, conflicts included.
func (r *Renderer) Render(ctx context.Context, in []byte) ([]byte, *Report, error) {
	result, err := r.Rewrite(ctx, in)
	if conflicts := (*ConflictError)(nil); errors.As(err, &conflicts) {
		return nil, conflicts.Report, err
	}
	if err != nil {
		return nil, nil, err
	}
	return result.Bytes(), result.Report, nil
}

// Rewrite does the work of Render but keeps the result as the input plus
// the rewritten documents, so a large stream is written out (WriteTo)
// without another copy of it in memory.
func (r *Renderer) Rewrite(ctx context.Context, in []byte) (*Result, error) {
	ix, err := r.ruleIndex()
	if err != nil {
		return nil, err
	}
	objects, err := r.findObjects(in, ix)
	if err != nil {
		return nil, err
	}
	result := &Result{
		Report:  &Report{ObjectsChecked: len(objects), Rewrites: []Finding{}, Conflicts: []Finding{}},
		in:      in,
		objects: objects,
		index:   ix,
	}
	if len(objects) == 0 {
		return result, nil
	}
	if err := r.learnServerVersion(ctx, ix, objects, result.Report); err != nil {
		return nil, err
	}
	if err := r.attachLiveState(ctx, objects, result.Report); err != nil {
		return nil, err
	}
	var live []*object
	for _, obj := range objects {
		if obj.live != nil {
			live = append(live, obj)
		}
	}
	result.Report.ObjectsLive = len(live)
	perObject := make([][]field, len(live))
	yamltext.Parallel(len(live), func(i int) { perObject[i] = ix.fields(live[i]) })
	fields := slices.Concat(perObject...)
	related, err := r.fetchRelated(ctx, relatedKeys(fields))
	if err != nil {
		return nil, err
	}
	edits := r.decideAll(fields, related, result.Report)
	if len(result.Report.Conflicts) > 0 && r.failsOn(result.Report.Conflicts) {
		return nil, &ConflictError{Conflicts: result.Report.Conflicts, Report: result.Report}
	}
	result.rewritten = make([]rewrittenDocument, len(edits))
	errs := make([]error, len(edits))
	yamltext.Parallel(len(edits), func(i int) {
		de := edits[i]
		result.rewritten[i] = rewrittenDocument{Document: de.doc}
		result.rewritten[i].text, errs[i] = yamltext.Apply(de.doc.Raw, de.parsed, de.edits, de.notes)
	})
	for i, err := range errs {
		if err != nil {
			return nil, documentError(in, edits[i].doc, fmt.Errorf("rewriting: %w", err))
		}
	}
	return result, nil
}

func (r *Renderer) conflictPolicy() ConflictPolicy {
	if r.OnConflict == "" {
		return Fail
	}
	return r.OnConflict
}

// failsOn reports whether the conflicts stop the render: always under Fail,
// and under KeepLive when one of them cannot keep the live value.
func (r *Renderer) failsOn(conflicts []Finding) bool {
	return r.conflictPolicy() == Fail || slices.ContainsFunc(conflicts, func(f Finding) bool { return f.keepLiveRefused })
}

func (r *Renderer) ruleSets() []*RuleSet {
	if r.Rules == nil {
		return DefaultRuleSets()
	}
	return r.Rules
}

// ruleIndex indexes the rule sets, for KubeVersion when it is set.
func (r *Renderer) ruleIndex() (*ruleIndex, error) {
	sets := r.ruleSets()
	var server *version.Version
	if r.KubeVersion != "" {
		var err error
		if server, err = version.ParseGeneric(r.KubeVersion); err != nil {
			return nil, fmt.Errorf("kube version %q: %w", r.KubeVersion, err)
		}
	}
	return newRuleIndex(sets, server), nil
}

// findObjects parses the documents that may hold ruled objects, on every
// CPU, and returns the objects in stream order, or the first error in
// stream order.
func (r *Renderer) findObjects(in []byte, ix *ruleIndex) ([]*object, error) {
	candidates := ix.candidates(in)
	found := make([][]*object, len(candidates))
	errs := make([]error, len(candidates))
	yamltext.Parallel(len(candidates), func(i int) {
		found[i], errs[i] = ix.objectsIn(candidates[i], r.Namespace)
	})
	var objects []*object
	for i, doc := range candidates {
		if errs[i] != nil {
			return nil, documentError(in, doc, errs[i])
		}
		objects = append(objects, found[i]...)
	}
	return objects, nil
}

// candidates returns the documents the cheap scan lets through, in stream
// order: the stream is cut into a part per CPU, each split and scanned on
// its own.
func (ix *ruleIndex) candidates(in []byte) []yamltext.Document {
	starts := yamltext.Parts(in, runtime.GOMAXPROCS(0))
	picked := make([][]yamltext.Document, len(starts))
	counts := make([]int, len(starts))
	yamltext.Parallel(len(starts), func(i int) {
		end := len(in)
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		for doc := range yamltext.Documents(in[starts[i]:end]) {
			counts[i]++
			if ix.mayHold(doc.Raw) {
				doc.Offset += starts[i]
				picked[i] = append(picked[i], doc)
			}
		}
	})
	var candidates []yamltext.Document
	before := 0 // documents in the parts before
	for i, part := range picked {
		for _, doc := range part {
			doc.Index += before
			candidates = append(candidates, doc)
		}
		before += counts[i]
	}
	return candidates
}

// documentError names the document of stream in that err is about, with
// YAML line numbers counted from the start of the stream.
func documentError(in []byte, doc yamltext.Document, err error) *DocumentError {
	start := yamltext.LineOf(in, doc.Offset)
	return &DocumentError{Document: doc.Index, Source: yamltext.SourceOf(doc.Raw), Line: start, Err: inStreamLines(err, start)}
}

// yamlErrorLine matches the line number the YAML parser reports, which
// counts from the start of the document.
var yamlErrorLine = regexp.MustCompile(`\byaml: line (\d+):`)

// inStreamLines rewrites a YAML error's line number to count from the start
// of the whole stream, the line a user can jump to.
func inStreamLines(err error, docStart int) error {
	m := yamlErrorLine.FindStringSubmatchIndex(err.Error())
	if m == nil {
		return err
	}
	msg := err.Error()
	line, _ := strconv.Atoi(msg[m[2]:m[3]])
	return fmt.Errorf("%sline %d of the input:%s", msg[:m[0]], docStart+line-1, msg[m[1]:])
}

// requireStringKeys rejects mappings with keys that are not strings (null,
// numbers, nested mappings): no Kubernetes object has them, and rules could
// not read such an object.
func requireStringKeys(kind string, v any) error {
	if path, ok := stringKeysOnly(v); !ok {
		slices.Reverse(path)
		return fmt.Errorf("%s field %s has a key that is not a string; Kubernetes objects only have string keys", kind, yamltext.FieldPath(path))
	}
	return nil
}

// stringKeysOnly reports whether every mapping in v has string keys only,
// and if not, the path to the first that has another, innermost key first
// (built only on the way out, as that is rare).
func stringKeysOnly(v any) (reversedPath []string, ok bool) {
	switch t := v.(type) {
	case map[string]any:
		for key, child := range t {
			if path, ok := stringKeysOnly(child); !ok {
				return append(path, key), false
			}
		}
	case []any:
		for _, child := range t {
			if path, ok := stringKeysOnly(child); !ok {
				return path, false
			}
		}
	case map[any]any:
		return nil, false
	}
	return nil, true
}

// Result is a rewritten stream.
type Result struct {
	Report    *Report
	in        []byte
	rewritten []rewrittenDocument // in stream order
	// objects and index are what Objects reports on.
	objects []*object
	index   *ruleIndex
}

// rewrittenDocument is the new text of one document of the input.
type rewrittenDocument struct {
	yamltext.Document
	text []byte
}

// WriteTo writes the stream: runs of untouched documents straight from the
// input, rewritten documents in their place.
func (res *Result) WriteTo(w io.Writer) (int64, error) {
	var written int64
	write := func(b []byte) error {
		n, err := w.Write(b)
		written += int64(n)
		return err
	}
	start := 0 // offset of the first untouched byte not yet written
	for _, doc := range res.rewritten {
		if err := write(res.in[start:doc.Offset]); err != nil {
			return written, err
		}
		if err := write(doc.text); err != nil {
			return written, err
		}
		start = doc.Offset + len(doc.Raw)
	}
	err := write(res.in[start:])
	return written, err
}

// Bytes returns the whole stream.
func (res *Result) Bytes() []byte {
	size := len(res.in)
	for _, doc := range res.rewritten {
		size += len(doc.text) - len(doc.Raw)
	}
	var out bytes.Buffer
	out.Grow(size)
	res.WriteTo(&out) // writing to a bytes.Buffer cannot fail
	return out.Bytes()
}
