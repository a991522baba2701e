// Package eventfilter matches events against Lambda event-source-mapping filter patterns
// (FilterCriteria.Filters[].Pattern), the syntax Lambda shares with EventBridge event patterns.
//
// A pattern is a JSON object. A key whose value is an object matches the event's field of that name
// recursively; a key whose value is an array is a leaf rule that matches when any element matches the
// event's value (an OR). Elements are literals (string, number, true, false, null) or one-key operator
// objects: prefix, suffix, equals-ignore-case, wildcard, anything-but, numeric, exists and cidr. The key
// "$or" takes a list of patterns of which at least one must match, at any level. All keys of an object
// must match (an AND); fields of the event the pattern does not name are ignored.
//
// Semantics follow AWS's documentation where it is explicit, and EventBridge's event-ruler where it is not:
//   - Strings compare character by character, without normalisation; numbers given as literals compare
//     by their JSON text (300, 300.0 and 3.0e2 differ, as Lambda documents); "numeric" compares values.
//   - An event value that is an array matches when any element matches. A nested pattern applied to an
//     array of objects matches when one element matches the whole nested pattern.
//   - "exists" looks at leaf values only: {"exists": true} needs the field to hold a string, number, bool
//     or null (or an array with one of those); an object there counts as absent. In DynamoDB stream
//     records every attribute is an object such as {"S": "x"}, so filter on {"attr": {"S": [{"exists":
//     true}]}}, not on "attr" itself.
//   - DynamoDB JSON carries numbers as strings ({"N": "5"}), so a "numeric" rule never matches a
//     DynamoDB number; match it as a string literal or with prefix.
//
// Compile rejects what Lambda would reject when the mapping is created: invalid JSON, a pattern over
// 4096 characters, a scalar where a rule list belongs, and unknown or malformed operators.
package eventfilter
