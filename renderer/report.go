package renderer

import (
	"fmt"
	"strings"
)

// Finding is one field of one claim that pvc-guard rewrote or could not
// reconcile. Reports, document comments and error messages are built from it.
type Finding struct {
	Document  int    `json:"document"`
	Source    string `json:"source,omitempty"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Field     string `json:"field"`
	Rule      string `json:"rule"`
	Chart     any    `json:"chartValue"`
	Live      any    `json:"liveValue"`
	Reason    string `json:"reason"`
	// Fix says how to proceed; set on conflicts only.
	Fix string `json:"fix,omitempty"`
}

// Resource names the claim the way kubectl does, with the template it came
// from when Helm recorded one.
func (f Finding) Resource() string {
	s := fmt.Sprintf("PersistentVolumeClaim %s/%s (document %d", f.Namespace, f.Name, f.Document)
	if f.Source != "" {
		s += ", " + f.Source
	}
	return s + ")"
}

// Report says what one render did.
type Report struct {
	// ClaimsChecked counts the claims in the stream; ClaimsLive those that
	// exist in the cluster (only those can need a rewrite).
	ClaimsChecked int       `json:"claimsChecked"`
	ClaimsLive    int       `json:"claimsLive"`
	Rewrites      []Finding `json:"rewrites"`
	Conflicts     []Finding `json:"conflicts"`
}

// Summary is the one line pvc-guard prints on stderr after a render.
func (r *Report) Summary() string {
	s := fmt.Sprintf("pvc-guard: %d claim(s) checked, %d live, %d field(s) preserved from the live cluster, %d conflict(s)",
		r.ClaimsChecked, r.ClaimsLive, len(r.Rewrites), len(r.Conflicts))
	if len(r.Rewrites) == 0 {
		return s
	}
	var fields []string
	for _, f := range r.Rewrites[:min(len(r.Rewrites), summaryFields)] {
		fields = append(fields, f.Namespace+"/"+f.Name+" "+f.Field)
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
