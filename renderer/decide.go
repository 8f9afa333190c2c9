package renderer

import "fmt"

// verdict is what a rule decides for one field of one claim.
type verdict int

const (
	// keepChart leaves the chart's value as rendered.
	keepChart verdict = iota
	// takeLive writes the live value into the document.
	takeLive
	// conflict means neither value can be submitted safely without a
	// decision from the user (see ConflictPolicy).
	conflict
)

// claimState is what a rule may know about the live claim beyond the field.
type claimState struct {
	bound bool
	// live reads the live claim at a path (as the API server holds it).
	live func(path []string) any
	// expandable reports whether the claim's StorageClass allows volume
	// expansion; only consulted when a bound claim grows.
	expandable func() (bool, string)
}

// decision is a verdict with the sentence that explains it.
type decision struct {
	verdict verdict
	why     string
}

// fieldValues is one field of the chart's claim and of the live claim, read
// as the API server reads them (see canonical and apiView).
type fieldValues struct {
	written           bool // the chart sets the field itself, in a form that is a value
	chart, live       any  // as compared: the chart's after the API server's defaulting
	chartSet, liveSet bool
}

// shape is the shape of the rule's Value.
func (r Rule) shape() shape {
	if s, ok := shapes[r.Value]; ok {
		return s
	}
	return stringShape
}

// IsSet reports whether v, a value of the rule's field, is a value to the
// API server rather than the field not being set: "" is a storage class,
// {} a selector, while [] access modes are none.
func (r Rule) IsSet(v any) bool {
	_, set := canonical(v, r.shape())
	return set
}

// read returns the rule's field of a chart claim (as written, and as the
// API server sees it after defaulting) and of the live claim.
func (r Rule) read(written, chart, live any) fieldValues {
	s := r.shape()
	f := fieldValues{written: r.IsSet(written)}
	f.chart, f.chartSet = canonical(chart, s)
	f.live, f.liveSet = canonical(live, s)
	return f
}

// decide applies the rule's policy to the chart's and the live value.
func (r Rule) decide(f fieldValues, state claimState) decision {
	if r.Policy == StorageRequest {
		return decideStorageRequest(f, state)
	}
	switch {
	case f.chartSet == f.liveSet && (!f.chartSet || equalValues(f.chart, f.live, r.Quantity)):
		return decision{keepChart, ""}
	case !f.written:
		return decision{takeLive, "not set in the chart"}
	case !f.liveSet && r.Policy == SetOnce:
		return r.decideFirstValue(f, state)
	}
	return decision{conflict, r.Reason}
}

// decideFirstValue lets the chart set a set-once field the live claim does
// not have, unless the live claim fixes the value elsewhere (FirstValueFrom).
func (r Rule) decideFirstValue(f fieldValues, state claimState) decision {
	if r.FirstValueFrom == nil {
		return decision{keepChart, ""}
	}
	first, set := canonical(state.live(r.FirstValueFrom), stringShape)
	if !set || equalValues(f.chart, first, r.Quantity) {
		return decision{keepChart, ""}
	}
	return decision{conflict, fmt.Sprintf("the live claim's %s is %s, and %s can only be set to that value",
		fieldPath(r.FirstValueFrom), FormatValue(first), r.FieldPath())}
}

// decideStorageRequest mirrors the API server's size checks: requests may
// not shrink, and may grow only on a bound claim whose class is expandable.
func decideStorageRequest(f fieldValues, state claimState) decision {
	if !f.written {
		return decision{takeLive, "not set in the chart"}
	}
	if !f.liveSet {
		return decision{keepChart, ""}
	}
	cmp, ok := compareQuantities(f.chart, f.live)
	switch {
	case !ok:
		return decision{conflict, fmt.Sprintf("%q is not a valid resource quantity", scalarText(f.chart))}
	case cmp == 0:
		return decision{keepChart, ""}
	case !state.bound:
		return decision{conflict, "the claim is not bound yet, and a pending claim's storage request is immutable"}
	case cmp < 0:
		return decision{takeLive, "the live request is larger and can never shrink"}
	}
	if ok, why := state.expandable(); !ok {
		return decision{conflict, "the claim can only grow when its StorageClass allows volume expansion: " + why}
	}
	return decision{keepChart, ""}
}
