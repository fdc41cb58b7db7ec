import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// File operations with the durability the commit protocol needs: fsync of data and of directory entries,
/// atomic replace by rename, and the store's permissions (files 0640, directories 0750).
enum DurableFile {
    static let fileMode: mode_t = 0o640
    static let directoryMode: mode_t = 0o750

    static func check(_ rc: Int32, _ op: String, _ path: String) throws {
        if rc != 0 { throw StoreError.io(path: path, operation: op, errno: errno) }
    }

    /// Creates `url` and missing parents with mode 0750, fsyncing each parent whose entry list changed.
    static func makeDirectory(_ url: URL) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue { return }
        let parent = url.deletingLastPathComponent()
        if parent.path != url.path { try makeDirectory(parent) }
        if mkdir(url.path, directoryMode) != 0 && errno != EEXIST {
            throw StoreError.io(path: url.path, operation: "mkdir", errno: errno)
        }
        try syncDirectory(parent)
    }

    /// fsyncs a directory so renames and creations inside it are durable.
    static func syncDirectory(_ url: URL) throws {
        let fd = open(url.path, O_RDONLY | O_DIRECTORY)
        if fd < 0 { throw StoreError.io(path: url.path, operation: "open directory", errno: errno) }
        defer { close(fd) }
        try check(fsync(fd), "fsync directory", url.path)
    }

    /// fsyncs a file's data.
    static func syncFile(_ url: URL) throws {
        let fd = open(url.path, O_RDONLY)
        if fd < 0 { throw StoreError.io(path: url.path, operation: "open", errno: errno) }
        defer { close(fd) }
        try check(fsync(fd), "fsync", url.path)
    }

    /// Writes `data` to a new file (mode 0640), fsynced, failing if it exists.
    static func writeNew(_ data: [UInt8], to url: URL) throws {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, fileMode)
        if fd < 0 { throw StoreError.io(path: url.path, operation: "create", errno: errno) }
        defer { close(fd) }
        try writeAll(fd, data, path: url.path)
        try check(fsync(fd), "fsync", url.path)
    }

    /// Writes all of `data` to `fd`, retrying short writes.
    static func writeAll(_ fd: Int32, _ data: [UInt8], path: String) throws {
        try data.withUnsafeBytes { buf in
            var off = 0
            while off < buf.count {
                let n = write(fd, buf.baseAddress! + off, buf.count - off)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw StoreError.io(path: path, operation: "write", errno: errno)
                }
                off += n
            }
        }
    }

    /// The name of a temp file next to `url` (removed on open if a crash left it).
    static func temporaryURL(for url: URL) -> URL {
        url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    }

    /// True for names made by `temporaryURL`.
    static func isTemporary(_ name: String) -> Bool { name.hasPrefix(".") && name.contains(".tmp-") }

    /// Atomically replaces `url` by `data`: temp file, fsync, rename, fsync directory.
    /// `beforeRename` lets tests stop half-way (simulated crash).
    static func replace(_ url: URL, with data: [UInt8], beforeRename: (() throws -> Void)? = nil) throws {
        let tmp = temporaryURL(for: url)
        try writeNew(data, to: tmp)
        try beforeRename?()
        try check(rename(tmp.path, url.path), "rename", url.path)
        try syncDirectory(url.deletingLastPathComponent())
    }

    /// Reads a whole file.
    static func read(_ url: URL) throws -> [UInt8] {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw StoreError.io(path: url.path, operation: "open", errno: errno) }
        defer { close(fd) }
        var st = Glibc.stat()
        try check(fstat(fd, &st), "stat", url.path)
        let size = Int(st.st_size)
        var out = [UInt8](repeating: 0, count: size)
        var off = 0
        try out.withUnsafeMutableBytes { buf in
            while off < size {
                let n = pread(fd, buf.baseAddress! + off, size - off, off_t(off))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw StoreError.io(path: url.path, operation: "read", errno: errno)
                }
                if n == 0 { break }
                off += n
            }
        }
        return off == size ? out : Array(out[0..<off])
    }

    /// Size in bytes and modification time, or nil when missing.
    static func fileInfo(_ url: URL) -> (size: Int, modified: Date)? {
        var st = Glibc.stat()
        guard lstat(url.path, &st) == 0 else { return nil }
        let t = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
        return (Int(st.st_size), Date(timeIntervalSince1970: t))
    }

    static func remove(_ url: URL) { unlink(url.path) }
}
