package renderer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/kyaml/yaml"
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

// Renderer rewrites claims in a manifest stream to agree with the live
// cluster. It implements Helm's post-renderer interface (Run) for Helm 3's
// pkg/postrender and Helm 4's pkg/postrenderer.
type Renderer struct {
	// Live is where live claims and storage classes come from.
	Live LiveState
	// Namespace applies to documents without metadata.namespace.
	Namespace string
	// OnConflict defaults to Fail.
	OnConflict ConflictPolicy
	// Rules defaults to DefaultRules.
	Rules []Rule
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
	claims, err := r.findClaims(in, candidateDocuments(in))
	if err != nil {
		return nil, err
	}
	result := &Result{
		Report: &Report{ClaimsChecked: len(claims), Rewrites: []Finding{}, Conflicts: []Finding{}},
		in:     in,
	}
	if len(claims) == 0 {
		return result, nil
	}
	if err := r.attachLiveState(ctx, claims); err != nil {
		return nil, err
	}
	classes, err := r.fetchStorageClasses(ctx, claims)
	if err != nil {
		return nil, err
	}
	edits := r.decideAll(claims, classes, result.Report)
	if len(result.Report.Conflicts) > 0 && r.conflictPolicy() == Fail {
		return nil, &ConflictError{Conflicts: result.Report.Conflicts, Report: result.Report}
	}
	result.rewritten = make([]rewrittenDocument, len(edits))
	errs := make([]error, len(edits))
	parallel(len(edits), func(i int) {
		de := edits[i]
		result.rewritten[i] = rewrittenDocument{document: de.doc}
		result.rewritten[i].text, errs[i] = applyEdits(de.doc.raw, de.parsed, de.edits, de.notes)
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

func (r *Renderer) rules() []Rule {
	if r.Rules == nil {
		return DefaultRules
	}
	return r.Rules
}

// claim is one PersistentVolumeClaim found in the stream.
type claim struct {
	doc    document
	parsed parsedDocument // the whole document, parsed once
	item   int            // index in a List's items, or -1
	key    ObjectKey
	source string
	object any            // the chart's claim as plain Go values
	live   map[string]any // the live claim, nil when there is none
	// view and liveView are both claims as the API server compares them on
	// an update (apiView): defaulted, data sources filled in.
	view, liveView any
}

// findClaims parses the documents that may hold claims, on every CPU, and
// returns the claims in stream order, or the first error in stream order.
func (r *Renderer) findClaims(in []byte, candidates []document) ([]*claim, error) {
	found := make([][]*claim, len(candidates))
	errs := make([]error, len(candidates))
	parallel(len(candidates), func(i int) {
		found[i], errs[i] = r.claimsIn(candidates[i])
	})
	var claims []*claim
	for i, doc := range candidates {
		if errs[i] != nil {
			return nil, documentError(in, doc, errs[i])
		}
		claims = append(claims, found[i]...)
	}
	return claims, nil
}

// parallel calls work(0) ... work(n-1) on as many goroutines as there are
// CPUs. Parsing and rewriting claims are independent per document, and a
// post-renderer's wall time is what Helm waits for.
func parallel(n int, work func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				work(i)
			}
		})
	}
	wg.Wait()
}

// documentError names the document of stream in that err is about, with
// YAML line numbers counted from the start of the stream.
func documentError(in []byte, doc document, err error) *DocumentError {
	start := lineOf(in, doc.offset)
	return &DocumentError{Document: doc.index, Source: sourceOf(doc.raw), Line: start, Err: inStreamLines(err, start)}
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

// claimsIn returns the claims of one document: the document itself, or the
// items of a List.
func (r *Renderer) claimsIn(doc document) ([]*claim, error) {
	parsed, err := parseDocument(doc.raw)
	if err != nil {
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	if len(parsed.node.Content) == 0 {
		return nil, nil
	}
	root := parsed.node.Content[0]
	objects := []*yaml.Node{root}
	items := mappingValue(root, "items")
	if items != nil && items.Kind == yaml.SequenceNode {
		objects = items.Content
	}
	var claims []*claim
	for i, obj := range objects {
		if !isClaim(obj) {
			continue
		}
		item := i
		if obj == root {
			item = -1
		}
		c, err := r.newClaim(doc, parsed, item, obj)
		if err != nil {
			return nil, err
		}
		claims = append(claims, c)
	}
	return claims, nil
}

func isClaim(obj *yaml.Node) bool {
	kind, apiVersion := mappingValue(obj, "kind"), mappingValue(obj, "apiVersion")
	return kind != nil && kind.Value == "PersistentVolumeClaim" && apiVersion != nil && apiVersion.Value == "v1"
}

func (r *Renderer) newClaim(doc document, parsed parsedDocument, item int, obj *yaml.Node) (*claim, error) {
	object, err := decodeNode(obj)
	if err != nil {
		return nil, fmt.Errorf("decoding PersistentVolumeClaim: %w", err)
	}
	if err := requireStringKeys(object, nil); err != nil {
		return nil, err
	}
	name, _ := valueAt(object, []string{"metadata", "name"}).(string)
	if name == "" {
		return nil, fmt.Errorf("PersistentVolumeClaim without metadata.name; give the claim a name in its template")
	}
	namespace, _ := valueAt(object, []string{"metadata", "namespace"}).(string)
	if namespace == "" {
		namespace = r.Namespace
	}
	if namespace == "" {
		namespace = "default"
	}
	return &claim{doc: doc, parsed: parsed, item: item, key: ObjectKey{namespace, name}, source: sourceOf(doc.raw), object: object}, nil
}

// requireStringKeys rejects mappings with keys that are not strings (null,
// numbers, nested mappings): no Kubernetes object has them, and rules could
// not read such a claim.
func requireStringKeys(v any, path []string) error {
	switch t := v.(type) {
	case map[string]any:
		for key, child := range t {
			if err := requireStringKeys(child, append(path, key)); err != nil {
				return err
			}
		}
	case []any:
		for _, child := range t {
			if err := requireStringKeys(child, path); err != nil {
				return err
			}
		}
	case map[any]any:
		return fmt.Errorf("PersistentVolumeClaim field %s has a key that is not a string; Kubernetes objects only have string keys", fieldPath(path))
	}
	return nil
}

// attachLiveState fetches every live claim in one call.
func (r *Renderer) attachLiveState(ctx context.Context, claims []*claim) error {
	seen := map[ObjectKey]bool{}
	var keys []ObjectKey
	for _, c := range claims {
		if !seen[c.key] {
			seen[c.key] = true
			keys = append(keys, c.key)
		}
	}
	live, err := r.Live.Objects(ctx, claimGroupKind, keys)
	if err != nil {
		return fmt.Errorf("reading live PersistentVolumeClaims: %w", err)
	}
	for _, c := range claims {
		if found := live[c.key]; found != nil {
			c.live = found.Object
			c.view, c.liveView = apiView(c.object, c.live), apiView(c.live, nil)
		}
	}
	return nil
}

// docEdits collects the edits and notes for one document.
type docEdits struct {
	doc    document
	parsed parsedDocument
	edits  []fieldEdit
	notes  []string
}

// decideAll applies every rule to every live claim, filling the report and
// returning the edits of each document to rewrite, in stream order.
func (r *Renderer) decideAll(claims []*claim, classes classLookup, report *Report) []*docEdits {
	var edits []*docEdits
	for _, c := range claims {
		if c.live == nil {
			continue
		}
		report.ClaimsLive++
		for _, rule := range r.rules() {
			r.applyRule(c, rule, classes, report, &edits)
		}
	}
	return edits
}

func (r *Renderer) applyRule(c *claim, rule Rule, classes classLookup, report *Report, edits *[]*docEdits) {
	chart, live := valueAt(c.object, rule.Path), valueAt(c.liveView, rule.Path)
	fields := rule.read(chart, valueAt(c.view, rule.Path), live)
	d := rule.decide(fields, c.state(classes))
	if d.verdict == keepChart {
		return
	}
	f := Finding{Document: c.doc.index, Source: c.source, Namespace: c.key.Namespace, Name: c.key.Name,
		Field: rule.FieldPath(), Rule: rule.Name, Chart: chart, Live: live, Reason: d.why}
	if d.verdict == conflict {
		f.Fix = conflictFix(rule)
		report.Conflicts = append(report.Conflicts, f)
		if r.conflictPolicy() != KeepLive {
			return
		}
		f.Reason = "conflict resolved by --on-conflict=keep-live: " + d.why
	}
	report.Rewrites = append(report.Rewrites, f)
	de := lastEdits(*edits, c.doc)
	if de == nil {
		de = &docEdits{doc: c.doc, parsed: c.parsed}
		*edits = append(*edits, de)
	}
	de.edits = append(de.edits, fieldEdit{item: c.item, path: rule.Path, value: live, remove: !fields.liveSet})
	de.notes = append(de.notes, note(f))
}

// lastEdits returns the edits of doc if it is the last document edited:
// claims come in stream order, so a document's claims are consecutive.
func lastEdits(edits []*docEdits, doc document) *docEdits {
	if n := len(edits); n > 0 && edits[n-1].doc.index == doc.index {
		return edits[n-1]
	}
	return nil
}

func conflictFix(rule Rule) string {
	if rule.Policy == StorageRequest {
		return "render the live size (or a larger one with an expandable StorageClass), or re-run with --on-conflict=keep-live to keep the live size"
	}
	return "render the live value in the chart, or re-run with --on-conflict=keep-live to keep it; a different value needs a new claim and a data migration"
}

// note is the comment line a rewritten document carries for one field.
func note(f Finding) string {
	return fmt.Sprintf("%s of %s = %s from the live claim (%s: %s)", f.Field, f.Name, FormatValue(f.Live), f.Rule, f.Reason)
}

// classLookup answers whether a storage class allows volume expansion.
type classLookup func(name string) (bool, string)

func (c *claim) state(classes classLookup) claimState {
	phase, _ := valueAt(c.live, []string{"status", "phase"}).(string)
	return claimState{
		bound: phase == "Bound",
		live:  func(path []string) any { return valueAt(c.liveView, path) },
		expandable: func() (bool, string) {
			name, _ := valueAt(c.live, []string{"spec", "storageClassName"}).(string)
			return classes(name)
		},
	}
}

// fetchStorageClasses runs the rules once with a recording lookup to learn
// which classes matter (only a bound claim that grows needs its class), then
// fetches just those in one call and returns the real lookup.
func (r *Renderer) fetchStorageClasses(ctx context.Context, claims []*claim) (classLookup, error) {
	needed := map[string]bool{}
	record := func(name string) (bool, string) { needed[name] = true; return false, "" }
	for _, c := range claims {
		if c.live == nil {
			continue
		}
		for _, rule := range r.rules() {
			fields := rule.read(valueAt(c.object, rule.Path), valueAt(c.view, rule.Path), valueAt(c.liveView, rule.Path))
			rule.decide(fields, c.state(record))
		}
	}
	delete(needed, "")
	classes := map[ObjectKey]*unstructured.Unstructured{}
	if len(needed) > 0 {
		keys := make([]ObjectKey, 0, len(needed))
		for _, name := range sortedKeys(needed) {
			keys = append(keys, ObjectKey{Name: name})
		}
		var err error
		if classes, err = r.Live.Objects(ctx, classGroupKind, keys); err != nil {
			return nil, fmt.Errorf("reading StorageClasses: %w", err)
		}
	}
	return func(name string) (bool, string) {
		class := classes[ObjectKey{Name: name}]
		switch {
		case name == "":
			return false, "the live claim has no storageClassName"
		case class == nil:
			return false, fmt.Sprintf("StorageClass %q does not exist", name)
		case valueAt(class.Object, []string{"allowVolumeExpansion"}) != true:
			return false, fmt.Sprintf("StorageClass %q does not set allowVolumeExpansion: true", name)
		}
		return true, ""
	}, nil
}

// Result is a rewritten stream.
type Result struct {
	Report    *Report
	in        []byte
	rewritten []rewrittenDocument // in stream order
}

// rewrittenDocument is the new text of one document of the input.
type rewrittenDocument struct {
	document
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
		if err := write(res.in[start:doc.offset]); err != nil {
			return written, err
		}
		if err := write(doc.text); err != nil {
			return written, err
		}
		start = doc.offset + len(doc.raw)
	}
	err := write(res.in[start:])
	return written, err
}

// Bytes returns the whole stream.
func (res *Result) Bytes() []byte {
	size := len(res.in)
	for _, doc := range res.rewritten {
		size += len(doc.text) - len(doc.raw)
	}
	var out bytes.Buffer
	out.Grow(size)
	res.WriteTo(&out) // writing to a bytes.Buffer cannot fail
	return out.Bytes()
}

// sortedKeys returns a set's members in order, for stable lookups.
func sortedKeys(set map[string]bool) []string {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
