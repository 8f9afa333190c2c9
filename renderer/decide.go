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
	// expandable reports whether the claim's StorageClass allows volume
	// expansion; only consulted when a bound claim grows.
	expandable func() (bool, string)
}

// decision is a verdict with the sentence that explains it.
type decision struct {
	verdict verdict
	why     string
}

// decide applies the rule's policy to the chart's and the live value.
func (r Rule) decide(chart, live any, state claimState) decision {
	if r.Policy == StorageRequest {
		return decideStorageRequest(chart, live, state)
	}
	switch {
	case equalValues(chart, live, r.Quantity):
		return decision{keepChart, ""}
	case isEmpty(chart):
		return decision{takeLive, "not set in the chart"}
	case isEmpty(live) && r.Policy == SetOnce:
		return decision{keepChart, ""}
	}
	return decision{conflict, r.Reason}
}

// decideStorageRequest mirrors the API server's size checks: requests may
// not shrink, and may grow only on a bound claim whose class is expandable.
func decideStorageRequest(chart, live any, state claimState) decision {
	if isEmpty(chart) {
		return decision{takeLive, "not set in the chart"}
	}
	if isEmpty(live) {
		return decision{keepChart, ""}
	}
	cmp, ok := compareQuantities(chart, live)
	switch {
	case !ok:
		return decision{conflict, fmt.Sprintf("%q is not a valid resource quantity", scalarText(chart))}
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
