/// The hashes that let consumers with identical profiles share one applicability computation.
///
/// Both are byte for byte Pulp 2's, so hashes computed by Pulp and by PulpKit for the same data agree:
///
/// - a **profile hash** is the SHA-256 (lowercase hex) of the normalised profile's canonical JSON: keys
///   sorted, no spaces, every non-ASCII character escaped (Python's `json.dumps(p, sort_keys=True,
///   separators=(",", ":"))`);
/// - a **profile set hash** (Pulp's `all_profiles_hash`) covers a consumer's non-empty profiles: with one,
///   it is that profile's hash; with several, the SHA-256 of the sorted hashes written as Python's
///   `json.dumps` writes a list by default (`["a…", "b…"]`); with none, the SHA-256 of `[]`, which no
///   applicability record ever has.
public enum ProfileHash {
    /// The profile hash of a (normalised) profile.
    public static func hash(of profile: JSONValue) -> String {
        SHA256.hash(profile.encoded(.asciiOnly).utf8).hex
    }

    /// The profile set hash of a consumer whose non-empty profiles have `profileHashes` (in any order).
    public static func profileSetHash(of profileHashes: [String]) -> String {
        if profileHashes.count == 1 { return profileHashes[0] }
        let list = "[" + profileHashes.sorted().map { "\"\($0)\"" }.joined(separator: ", ") + "]"
        return SHA256.hash(list.utf8).hex
    }

    /// The profile set hash of a consumer's profiles, leaving out empty ones; `nil` when every profile is
    /// empty (or there is none), since such a consumer has no applicability.
    public static func profileSetHash(of profiles: some Sequence<UnitProfile>) -> String? {
        let hashes = profiles.filter { !$0.isEmpty }.map(\.profileHash)
        return hashes.isEmpty ? nil : profileSetHash(of: hashes)
    }

    /// Whether a profile lists nothing: `[]`, `{}`, `null` or `""`.
    public static func isEmpty(_ profile: JSONValue) -> Bool {
        switch profile {
        case .null: true
        case .array(let elements): elements.isEmpty
        case .object(let members): members.isEmpty
        case .string(let text): text.isEmpty
        default: false
        }
    }
}
