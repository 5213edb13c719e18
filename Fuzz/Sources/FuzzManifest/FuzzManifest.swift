import FuzzCheck
import PulpFile
import PulpKit

/// Parses the input as a `PULP_MANIFEST`. Accepted text must encode to a manifest that parses back to the same
/// entries and encodes the same again, with every name valid on its own; refused text must be a 400 naming
/// `manifest` with the line at fault.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzManifest(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    let manifest: FileManifest
    do {
        manifest = try FileManifest(parsing: UnsafeBufferPointer(start: data, count: count))
    } catch {
        check(error.httpStatus == 400 && error.propertyNames == ["manifest"], "refused with \(error)")
        check(error.message.contains("PULP_MANIFEST line "), "the refusal names no line: \(error)")
        return 0
    }
    let encoded = manifest.encoded
    guard let reparsed = try? FileManifest(parsing: encoded) else {
        fail("the encoded manifest does not parse: \(String(decoding: encoded, as: UTF8.self))")
    }
    check(reparsed == manifest, "the encoded manifest parses to other entries")
    check(reparsed.encoded == encoded, "the encoded manifest encodes differently the second time")
    check((try? FileManifest(entries: manifest.entries)) == manifest, "the entries do not make a manifest")
    for entry in manifest.entries {
        let rebuilt = try? FileManifest.Entry(name: entry.name, sha256: entry.sha256, size: entry.size)
        check(rebuilt == entry, "entry \(entry) is refused when built from its parts")
    }
    return 0
}
