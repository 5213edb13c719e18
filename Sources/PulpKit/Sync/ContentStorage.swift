public import Foundation

/// The directory where unit files live, content-addressed by SHA-256.
///
/// A file with digest `d` is stored at `content/<d[0..<2]>/<d>` under the root, so a file shared by two
/// units or two repositories is stored once, and names from a feed never reach the file system. A download
/// checked against a known digest is written beside its final place (``preparedPath(for:)``), others arrive
/// in `incoming/`; either is checked by the ``Downloader`` and published with one `rename`, so a stored path
/// never holds a partial file.
public struct ContentStorage: Sendable, Hashable {
    /// The storage root.
    public let root: URL

    /// Uses (creating if needed, mode 0700) the storage root at `root`.
    ///
    /// The root is the host's choice, so a symlink there is resolved once, here; inside the root no symlink
    /// is ever followed: a directory or file replaced by one is refused or replaced.
    ///
    /// - Throws: a ``PulpError`` naming the directory when it cannot be created or is not a directory.
    public init(root: URL) throws(PulpError) {
        self.root = root.standardizedFileURL.resolvingSymlinksInPath()
        for directory in [self.root, incomingDirectory, self.root.appendingPathComponent("content")] {
            try Self.makeDirectory(directory.path)
        }
    }

    /// Where downloads are written before they are checked and moved into place.
    public var incomingDirectory: URL { root.appendingPathComponent("incoming", isDirectory: true) }

    /// A fresh path in ``incomingDirectory`` for one download.
    ///
    /// - Throws: a ``PulpError`` naming the directory when `incoming` has been replaced by a symlink or a
    ///   file (it is re-created when missing), so no download is ever written outside the root.
    public func incomingURL() throws(PulpError) -> URL {
        try Self.makeDirectory(incomingDirectory.path)
        return incomingDirectory.appendingPathComponent(UUID().uuidString.lowercased())
    }

    /// The path, relative to the root, of the file whose SHA-256 is `digest`.
    public func relativePath(for digest: SHA256Digest) -> String {
        let hex = digest.hex
        return "content/\(hex.prefix(2))/\(hex)"
    }

    /// The absolute URL of a stored relative path.
    ///
    /// - Throws: a 400 naming `storage_path` when the path is absolute, climbs with `..`, or is empty.
    public func url(forRelativePath path: String) throws(PulpError) -> URL {
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !path.isEmpty, !path.hasPrefix("/"), !components.contains(where: { $0 == ".." || $0.isEmpty }),
            !path.utf8.contains(0)
        else {
            throw PulpError.invalid("storage_path", "'\(path)' is not a path inside the storage root")
        }
        return root.appendingPathComponent(path)
    }

    /// Whether the file of `digest` is stored (with `size` bytes, when given).
    public func contains(_ digest: SHA256Digest, size: Int64? = nil) -> Bool {
        var info = stat()
        guard lstat(root.appendingPathComponent(relativePath(for: digest)).path, &info) == 0,
            (info.st_mode & S_IFMT) == S_IFREG
        else { return false }
        return size.map { Int64(info.st_size) == $0 } ?? true
    }

    /// The absolute path of the file of `digest`, after creating its directory if needed: a download checked
    /// against `digest` is written beside it (a hidden partial file) and renamed into place in one step, with
    /// no move between directories.
    public func preparedPath(for digest: SHA256Digest) throws(PulpError) -> String {
        let hex = digest.hex
        let directory = "\(root.path)/content/\(hex.prefix(2))"
        try Self.makeDirectory(directory)
        return "\(directory)/\(hex)"
    }

    /// Moves a checked download from ``incomingDirectory`` into place as the file of `digest`; returns its
    /// relative path. A file of that digest already stored is replaced by the download, whose bytes are the
    /// same; when it cannot be placed, the download is deleted and the error names the destination.
    public func place(_ incoming: URL, as digest: SHA256Digest) throws(PulpError) -> String {
        let relative = relativePath(for: digest)
        let destination = root.appendingPathComponent(relative).path
        do {
            try Self.makeDirectory((destination as NSString).deletingLastPathComponent)
        } catch {
            unlink(incoming.path)
            throw error
        }
        guard rename(incoming.path, destination) == 0 else {
            let code = errno
            unlink(incoming.path)
            throw PulpError.storage(
                "cannot move a download into place: \(String(cString: strerror(code)))",
                path: destination
            )
        }
        return relative
    }

    /// Whether the stored file at `path` has `size` bytes (when given) and the SHA-256 `digest`.
    public func verify(_ path: String, size: Int64?, digest: SHA256Digest?) -> Bool {
        guard let url = try? url(forRelativePath: path) else { return false }
        var info = stat()
        guard lstat(url.path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return false }
        if let size, Int64(info.st_size) != size { return false }
        guard let digest else { return true }
        return (try? SHA256.hash(fileAt: url.path)) == digest
    }

    /// Makes every file written and moved under the root so far durable: one `syncfs` for the file system,
    /// instead of an `fsync` per file. Call it before recording a batch of downloads as stored.
    public func synchronize() throws(PulpError) {
        let descriptor = open(root.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw PulpError.storage(
                "cannot open the storage root: \(String(cString: strerror(errno)))",
                path: root.path
            )
        }
        defer { close(descriptor) }
        guard syncfs(descriptor) == 0 else {
            throw PulpError.storage(
                "cannot sync the storage root: \(String(cString: strerror(errno)))",
                path: root.path
            )
        }
    }

    /// Deletes a stored file (a corrupt one, before it is downloaded again).
    public func remove(_ path: String) {
        guard let url = try? url(forRelativePath: path) else { return }
        unlink(url.path)
    }

    /// Creates `path` (mode 0700) unless it is already a real directory; a symlink or file there is refused.
    private static func makeDirectory(_ path: String) throws(PulpError) {
        var info = stat()
        if lstat(path, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFDIR else {
                throw PulpError.storage("exists and is not a directory (symlinks are refused)", path: path)
            }
            return
        }
        if mkdir(path, 0o700) != 0, errno != EEXIST {
            if errno == ENOENT {
                try makeDirectory((path as NSString).deletingLastPathComponent)
                if mkdir(path, 0o700) == 0 || errno == EEXIST { return }
            }
            throw PulpError.storage("cannot create directory: \(String(cString: strerror(errno)))", path: path)
        }
    }
}

/// Linux's `syncfs(2)`, which Glibc's Swift module does not export (it is a `_GNU_SOURCE` declaration).
@_silgen_name("syncfs")
private func syncfs(_ descriptor: Int32) -> Int32
