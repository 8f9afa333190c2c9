package audit

// Result is what `pvc-guard audit -o json|yaml` prints. Its shape is part of
// the command's interface (README, "Audit"): fields are added, never renamed.
type Result struct {
	Releases []Release `json:"releases"`
}

// Release is one release's predictions.
type Release struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	// Revision is the current (latest) revision, the one rollbacks start from.
	Revision int `json:"revision"`
	// Revisions are the rollbacks to earlier revisions, newest first.
	Revisions []Revision `json:"revisions"`
	// Drift is the next plain upgrade with the current revision's manifest,
	// once per apply method: what the live objects have drifted to, by hand
	// or by controllers, that such an upgrade would trip on.
	Drift []Check `json:"drift"`
	// Preserved are the fields the current manifest carries only because
	// pvc-guard wrote them in: what a stock client-side upgrade without
	// pvc-guard would ask the API server to clear.
	Preserved []Preserved `json:"preserved"`
}

// Revision is the prediction for `helm rollback RELEASE REVISION` and for
// `pvc-guard rollback RELEASE REVISION`.
type Revision struct {
	Revision int `json:"revision"`
	Check
}

// Check is one apply predicted twice: as stock Helm sends it and as
// pvc-guard's rewritten manifest makes it.
type Check struct {
	// ApplyMethod is "client-side" (a three-way strategic merge patch),
	// "server-side" (Helm 4's server-side apply) or "replace" (--force).
	ApplyMethod string `json:"applyMethod"`
	// Assumed says why this apply method: release records do not say which
	// Helm wrote them, only Helm 4 records carry an apply method.
	Assumed  string  `json:"assumed"`
	Stock    Verdict `json:"stock"`
	PvcGuard Verdict `json:"pvcGuard"`
}

// Verdict is whether an apply would go through.
type Verdict struct {
	OK bool `json:"ok"`
	// Unknown: the API server could not say (a webhook that refuses dry
	// runs, a timeout); OK is false.
	Unknown bool `json:"unknown,omitempty"`
	// Fields are the dotted paths the refused requests would change, from
	// pvc-guard's own diff of each request (the API server names only spec).
	Fields []string `json:"fields,omitempty"`
	Error  string   `json:"error,omitempty"`
	// Basis is "dry-run" when the API server judged every request, "rules"
	// when some were judged by pvc-guard's rules only (Note says why), and
	// "unchanged" when no object would change, so there was nothing to ask.
	Basis string `json:"basis"`
	Note  string `json:"note,omitempty"`
	// Objects are the objects whose request would not go through.
	Objects []Object `json:"objects,omitempty"`
}

// Object is one object's refused or undecided request.
type Object struct {
	Kind      string   `json:"kind"`
	Namespace string   `json:"namespace,omitempty"`
	Name      string   `json:"name"`
	Unknown   bool     `json:"unknown,omitempty"`
	Fields    []string `json:"fields,omitempty"`
	Error     string   `json:"error"`
}

// Preserved is one field pvc-guard wrote into the current manifest, as its
// "# pvc-guard:" comment says.
type Preserved struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	Field     string `json:"field"`
	Comment   string `json:"comment"`
}

// Basis values.
const (
	DryRun    = "dry-run"
	Rules     = "rules"
	Unchanged = "unchanged"
)

// Exit codes of `pvc-guard audit`, for CI gates.
const (
	// ExitSafe: every stock rollback and upgrade checked would go through.
	ExitSafe = 0
	// ExitError: the audit could not run (exit 1, as every other error).
	ExitError = 1
	// ExitCovered: some stock rollback or upgrade would be refused, and
	// pvc-guard's would go through.
	ExitCovered = 2
	// ExitUncovered: some rollback or upgrade would be refused (or could not
	// be judged) even through pvc-guard.
	ExitUncovered = 3
)

// ExitCode is the exit code for CI: the worst of all checks.
func (r *Result) ExitCode() int {
	code := ExitSafe
	for _, rel := range r.Releases {
		for _, c := range rel.checks() {
			switch {
			case !c.PvcGuard.OK:
				return ExitUncovered
			case !c.Stock.OK:
				code = ExitCovered
			}
		}
	}
	return code
}

func (r Release) checks() []Check {
	checks := append([]Check(nil), r.Drift...)
	for _, rev := range r.Revisions {
		checks = append(checks, rev.Check)
	}
	return checks
}
