package renderer

import (
	"fmt"
	"strings"
)

// Finding is one field of one object that pvc-guard rewrote or could not
// reconcile. Reports, document comments, KRM results, flux patches and error
// messages are built from it.
type Finding struct {
	Document   int    `json:"document"`
	Source     string `json:"source,omitempty"`
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// Namespace is empty for a cluster-scoped object.
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	// Field is the concrete path, list items named:
	// spec.volumeClaimTemplates[metadata.name=data].spec.storageClassName.
	Field  string `json:"field"`
	Rule   string `json:"rule"`
	Chart  any    `json:"chartValue"`
	Live   any    `json:"liveValue"`
	Reason string `json:"reason"`
	// Fix says how to proceed; set on conflicts only.
	Fix string `json:"fix,omitempty"`
	// keepLiveRefused marks a conflict --on-conflict=keep-live cannot
	// resolve (a selector that no longer selects the chart's pods).
	keepLiveRefused bool
}

// ObjectName is namespace/name, or the name of a cluster-scoped object.
func (f Finding) ObjectName() string {
	if f.Namespace == "" {
		return f.Name
	}
	return f.Namespace + "/" + f.Name
}

// Resource names the object the way kubectl does, with the template it
// came from when Helm recorded one.
func (f Finding) Resource() string {
	s := fmt.Sprintf("%s %s (document %d", f.Kind, f.ObjectName(), f.Document)
	if f.Source != "" {
		s += ", " + f.Source
	}
	return s + ")"
}

// Report says what one render did.
type Report struct {
	// ObjectsChecked counts the objects of ruled kinds in the stream;
	// ObjectsLive those that exist in the cluster (only those can need a
	// rewrite).
	ObjectsChecked int       `json:"objectsChecked"`
	ObjectsLive    int       `json:"objectsLive"`
	Rewrites       []Finding `json:"rewrites"`
	Conflicts      []Finding `json:"conflicts"`
	// Warnings name what pvc-guard could not check: rules of a kind the
	// caller may not read, an API server older than the rules know.
	Warnings []string `json:"warnings,omitempty"`
}

// Summary is the line pvc-guard prints on stderr after a render, and one
// line per warning after it.
func (r *Report) Summary() string {
	s := r.summaryLine()
	for _, w := range r.Warnings {
		s += "\npvc-guard: warning: " + w
	}
	return s
}

func (r *Report) summaryLine() string {
	s := fmt.Sprintf("pvc-guard: %d object(s) checked, %d live, %d field(s) preserved from the live cluster, %d conflict(s)",
		r.ObjectsChecked, r.ObjectsLive, len(r.Rewrites), len(r.Conflicts))
	if len(r.Rewrites) == 0 {
		return s
	}
	var fields []string
	for _, f := range r.Rewrites[:min(len(r.Rewrites), summaryFields)] {
		fields = append(fields, f.ObjectName()+" "+f.Field)
	}
	if more := len(r.Rewrites) - summaryFields; more > 0 {
		fields = append(fields, fmt.Sprintf("and %d more (--report lists them all)", more))
	}
	return s + ": " + strings.Join(fields, ", ")
}

// summaryFields is how many preserved fields the one-line summary names.
const summaryFields = 10

// ConflictError is returned when the chart asks for a change Kubernetes
// refuses and the ConflictPolicy is Fail. Nothing was written.
type ConflictError struct {
	Conflicts []Finding
	// Report covers the whole render, rewrites included.
	Report *Report
}

func (e *ConflictError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d conflict(s) with the live cluster; nothing was written", len(e.Conflicts))
	for _, c := range e.Conflicts {
		fmt.Fprintf(&b, "\n  %s: %s: chart wants %s, live is %s\n    why: %s\n    fix: %s",
			c.Resource(), c.Field, FormatValue(c.Chart), FormatValue(c.Live), c.Reason, c.Fix)
	}
	return b.String()
}

// DocumentError is a problem with one document of the input stream.
type DocumentError struct {
	Document int    // 0-based index in the stream
	Source   string // Helm's "# Source:" template, when present
	Line     int    // line of the document's first byte in the stream
	Err      error
}

func (e *DocumentError) Error() string {
	where := fmt.Sprintf("document %d", e.Document)
	if e.Source != "" {
		where += " (" + e.Source + ")"
	}
	return fmt.Sprintf("%s, starting at line %d of the input: %v", where, e.Line, e.Err)
}

func (e *DocumentError) Unwrap() error { return e.Err }
