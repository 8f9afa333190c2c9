package renderer

// Policy says how a rule reconciles the chart's value of a field with the
// live claim's value.
type Policy string

const (
	// Immutable fields never change after creation. An absent or empty chart
	// value takes the live value; a different value is a conflict.
	Immutable Policy = "immutable"
	// SetOnce fields may be set while the live claim has none (the binder
	// or the user fills them later); from then on they behave as Immutable.
	SetOnce Policy = "set-once"
	// StorageRequest is the requested size: it never shrinks below the live
	// request, grows only on a bound claim whose StorageClass allows volume
	// expansion, and is fixed while the claim is pending.
	StorageRequest Policy = "storage-request"
)

// Rule is one field of a PersistentVolumeClaim that Kubernetes refuses to
// change freely. DefaultRules lists them; the README documents the same
// table and testdata/ holds one golden case per rule.
type Rule struct {
	// Name identifies the rule in reports and document comments.
	Name string `json:"name"`
	// Path is the field's location from the object root; a map key may
	// contain dots (annotation names), so it is a list, not a dotted string.
	Path []string `json:"path"`
	// Policy decides between the chart's and the live value.
	Policy Policy `json:"policy"`
	// Value is the field's type in the Kubernetes API, which decides what
	// counts as not set; the zero value means StringValue.
	Value ValueKind `json:"value"`
	// Quantity marks values compared as resource quantities (1Gi == 1024Mi).
	Quantity bool `json:"quantity,omitempty"`
	// FirstValueFrom, for a SetOnce field, is the path of a live value that
	// the field must equal when the chart sets it first, if the live claim
	// has one: a claim whose class is in the beta annotation can only take
	// that class.
	FirstValueFrom []string `json:"firstValueFrom,omitempty"`
	// Reason says why Kubernetes refuses a change, in the user's terms.
	Reason string `json:"reason"`
}

// FieldPath renders the rule's path the way kubectl explain does, quoting
// keys that contain dots: metadata.annotations["a.b/c"].
func (r Rule) FieldPath() string { return fieldPath(r.Path) }

// DefaultRules mirrors ValidatePersistentVolumeClaimUpdate in Kubernetes
// (pkg/apis/core/validation): for a bound claim every spec field except
// resources.requests and volumeAttributesClassName must stay equal, and the
// beta storage-class annotation must not change. Each rule's Value is the
// field's Go type, which decides as the API server does whether null, ""
// and {} are a value. Fields Kubernetes lets a
// user change (volumeAttributesClassName, labels, other annotations) are
// deliberately absent: the chart's value stands.
var DefaultRules = []Rule{
	{
		Name:   "volume-name",
		Path:   []string{"spec", "volumeName"},
		Policy: SetOnce,
		Value:  StringValue,
		Reason: "a claim's volume can be set once (usually by the binder) and never changed or cleared",
	},
	{
		Name:           "storage-class-name",
		Path:           []string{"spec", "storageClassName"},
		Policy:         SetOnce,
		Value:          OptionalStringValue,
		FirstValueFrom: []string{"metadata", "annotations", "volume.beta.kubernetes.io/storage-class"},
		Reason:         "a claim's storage class can be set once and never changed or cleared",
	},
	{
		Name:   "storage-class-annotation",
		Path:   []string{"metadata", "annotations", "volume.beta.kubernetes.io/storage-class"},
		Policy: Immutable,
		Value:  StringValue,
		Reason: "the beta storage-class annotation is immutable after creation",
	},
	{
		Name:   "access-modes",
		Path:   []string{"spec", "accessModes"},
		Policy: Immutable,
		Value:  ListValue,
		Reason: "a claim's access modes are immutable after creation",
	},
	{
		Name:   "volume-mode",
		Path:   []string{"spec", "volumeMode"},
		Policy: Immutable,
		Value:  OptionalStringValue,
		Reason: "a claim's volume mode is immutable after creation",
	},
	{
		Name:   "selector",
		Path:   []string{"spec", "selector"},
		Policy: Immutable,
		Value:  LabelSelectorValue,
		Reason: "a claim's volume selector is immutable after creation",
	},
	{
		Name:   "data-source",
		Path:   []string{"spec", "dataSource"},
		Policy: Immutable,
		Value:  LocalObjectReferenceValue,
		Reason: "a claim's data source is immutable after creation",
	},
	{
		Name:   "data-source-ref",
		Path:   []string{"spec", "dataSourceRef"},
		Policy: Immutable,
		Value:  ObjectReferenceValue,
		Reason: "a claim's data source reference is immutable after creation (the API server fills it from dataSource)",
	},
	{
		Name:     "resource-limits",
		Path:     []string{"spec", "resources", "limits"},
		Policy:   Immutable,
		Value:    MapValue,
		Quantity: true,
		Reason:   "a claim's resource limits are immutable after creation",
	},
	{
		Name:     "storage-request",
		Path:     []string{"spec", "resources", "requests", "storage"},
		Policy:   StorageRequest,
		Value:    StringValue,
		Quantity: true,
		Reason:   "a claim's storage request can never shrink, and grows only when bound and its StorageClass sets allowVolumeExpansion: true",
	},
}
