import FuzzCheck
import PulpKit

/// The documents every criteria object is applied to: the repository and errata documents of
/// `CriteriaFilterTests`, a task report and a few small values of every JSON type.
private let documents: [JSONValue] = [
    #"""
    {"id": "zoo", "_href": "/pulp/api/v2/repositories/zoo/", "state": "finished", "size": 150,
     "ratio": 2.5, "tags": ["a", "c"], "name": "Zoo", "notes": null, "nested": {"a": {"b": 3}},
     "pkglist": [{"name": "bash", "arch": "x86_64", "version": "5.1"}, {"name": "zsh", "arch": "noarch"}],
     "scores": [82, 91], "description": "first line\nSecond line", "started": "2024-05-01T10:00:00Z"}
    """#,
    #"""
    {"errata": [{"pkglist": [{"packages": [{"name": "x"}]}, {"packages": [{"name": "y"}]}]}],
     "mixed": [1, {"b": 2}], "deep": [[{"b": 1}]], "empty": []}
    """#,
    #"""
    {"task_id": "t1", "state": "error", "tags": ["pulp:action:sync", "pulp:repository:zoo"],
     "start_time": "2014-01-27T21:41:50Z", "finish_time": null, "progress_report": {}, "result": null,
     "error": {"code": "PLK0000", "description": "boom", "data": {}, "sub_errors": []}}
    """#,
    #"{"id": "a", "rank": 1, "v": [5, 1]}"#,
    #"{"id": "b", "rank": 2.0, "v": "b", "size": -7}"#,
    #"{"id": "c", "v": {"k": 1}, "rank": null}"#,
    #"{"id": "d", "v": true, "size": 9223372036854775807, "ratio": 1e300}"#,
    #"{}"#,
].map { try! JSONValue(parsing: $0) }

/// Reads the input as JSON (the parser is fuzzed too), then as a criteria object. Parsed JSON must encode and parse
/// back equal; valid criteria must survive their JSON and query-string forms, and applying them must filter, skip,
/// limit and sort consistently with ``Criteria/matches(_:)``.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCriteria(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    let value: JSONValue
    do {
        value = try JSONValue(parsing: UnsafeBufferPointer(start: data, count: count))
    } catch {
        check((error as? PulpError)?.code == .malformedJSON, "the JSON parser threw \(error)")
        return 0
    }
    checkEncoding(value)
    let criteria: Criteria
    do {
        criteria = try Criteria(json: value)
    } catch {
        check(error.httpStatus == 400 && !error.propertyNames.isEmpty, "criteria refused with \(error)")
        return 0
    }
    checkForms(criteria)
    checkApply(criteria, to: documents + [value] + (value.objectValue.map { Array($0.values) } ?? []))
    return 0
}

/// Every encoding of a value must parse back to the value.
private func checkEncoding(_ value: JSONValue) {
    for options: JSONEncodingOptions in [[], .prettyPrinted, .asciiOnly, [.prettyPrinted, .asciiOnly]] {
        let text = value.encoded(options)
        let reparsed = try? JSONValue(parsing: text)
        check(reparsed == value, "\(text) (options \(options.rawValue)) does not parse back to the value")
    }
}

/// Valid criteria must read back equal from their JSON form and from the query items of a GET search.
private func checkForms(_ criteria: Criteria) {
    let json = criteria.json
    check((try? Criteria(json: json)) == criteria, "criteria \(json) do not read back equal")
    var items: [(name: String, value: String)] = [("filters", JSONValue.object(criteria.filters).encoded())]
    if let sort = json["sort"] { items.append(("sort", sort.encoded())) }
    if let limit = criteria.limit { items.append(("limit", String(limit))) }
    if let skip = criteria.skip { items.append(("skip", String(skip))) }
    // A GET search cannot ask for an empty field list: no `field` item means whole documents.
    guard criteria.fields != [] else { return }
    for field in criteria.fields ?? [] { items.append(("field", field)) }
    check((try? Criteria(queryItems: items)) == criteria, "criteria \(json) do not read back from a query")
}

/// `apply` must return the matching documents, sorted as a permutation, then skipped and limited; without a sort
/// and a projection they are the matching documents in order.
private func checkApply(_ criteria: Criteria, to corpus: [JSONValue]) {
    let result = criteria.apply(to: corpus)
    let matching = corpus.filter(criteria.matches)
    let afterSkip = matching.count - min(criteria.skip ?? 0, matching.count)
    let expectedCount = min(afterSkip, criteria.limit ?? afterSkip)
    check(result.count == expectedCount, "\(criteria.json) returned \(result.count), not \(expectedCount)")
    if criteria.sort.isEmpty, criteria.fields == nil {
        let expected = Array(matching.dropFirst(criteria.skip ?? 0).prefix(expectedCount))
        check(result == expected, "\(criteria.json) did not keep the matching documents in order")
    }
    let sortedOnly = try! Criteria(filters: criteria.filters, sort: criteria.sort)
    let sorted = sortedOnly.apply(to: corpus)
    check(counts(sorted) == counts(matching), "\(criteria.json) sorted into other documents")
    check(sortedOnly.apply(to: sorted) == sorted, "\(criteria.json) does not sort its own result stably")
}

private func counts(_ values: [JSONValue]) -> [JSONValue: Int] {
    values.reduce(into: [:]) { $0[$1, default: 0] += 1 }
}
