import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The one home of durable file operations, for the Parquet writer and the column store alike: a file written under a
/// temporary name next to its final path, with its permissions set exactly (`fchmod`, whatever the umask), then
/// fsynced, renamed into place and its directory fsynced; directories created with their parents' entries fsynced;
/// atomic replaces; whole-file reads; and the temporary-name convention that cleanup after a crash relies on.
///
/// Errors are `ParquetError.io` with the path, the operation and the errno (printed as its own text).
///
/// As a value, a file being written: bytes appended, counted and CRC-32'd as they go; `commit` makes it durable.
public struct DurableFile {
    /// Permissions of store files: not world-readable.
    public static let defaultFileMode: UInt32 = 0o640
    /// Permissions of store directories.
    public static let defaultDirectoryMode: UInt32 = 0o750

    public let path: String
    public let tempPath: String
    private var fd: Int32
    public private(set) var offset: Int64 = 0
    private(set) var crc = CRC32()

    /// Creates the temporary file for `path` with exactly `mode`.
    public init(path: String, mode: UInt32 = DurableFile.defaultFileMode) throws {
        self.path = path
        tempPath = DurableFile.temporaryPath(for: path)
        fd = open(tempPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(mode))
        guard fd >= 0 else { throw ParquetError.io(path: tempPath, operation: "open", errno: errno) }
        // The umask may have narrowed the mode; set it exactly.
        _ = fchmod(fd, mode_t(mode))
    }

    public mutating func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    public mutating func write(_ buf: UnsafeRawBufferPointer) throws {
        crc.update(buf)
        try DurableFile.writeAll(fd, buf, path: tempPath)
        offset += Int64(buf.count)
    }

    /// Closes the file, fsyncs it (when `durable`), renames it into place and fsyncs its directory (when `durable`).
    public mutating func commit(durable: Bool) throws {
        if durable, fsync(fd) != 0 { throw ParquetError.io(path: tempPath, operation: "fsync", errno: errno) }
        guard close(fd) == 0 else { fd = -1; throw ParquetError.io(path: tempPath, operation: "close", errno: errno) }
        fd = -1
        try DurableFile.rename(tempPath, to: path)
        if durable { try DurableFile.syncDirectory(DurableFile.directory(of: path)) }
    }

    /// Closes and removes the temporary file (after an error or when the caller aborts).
    public mutating func discard() {
        if fd >= 0 { close(fd); fd = -1 }
        unlink(tempPath)
    }

    // MARK: operations on paths

    /// The temporary name of a file being written to `path`: a hidden name in the same directory.
    public static func temporaryPath(for path: String) -> String {
        let dir = directory(of: path)
        let base = path.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? path
        return (dir == "." && !path.hasPrefix("./") ? "" : dir + "/") + "." + base + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// True for names made by `temporaryPath` (what a crash can leave behind).
    public static func isTemporary(_ name: String) -> Bool { name.hasPrefix(".") && name.contains(".tmp-") }

    /// The directory part of a path ("." when it has none, "/" for a file at the root).
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let dir = String(path[..<slash])
        return dir.isEmpty ? "/" : dir
    }

    /// fsyncs a directory so renames and creations inside it are durable.
    public static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw ParquetError.io(path: path, operation: "open directory", errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw ParquetError.io(path: path, operation: "fsync directory", errno: errno) }
    }

    /// fsyncs a file's data.
    public static func syncFile(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ParquetError.io(path: path, operation: "open", errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw ParquetError.io(path: path, operation: "fsync", errno: errno) }
    }

    /// Creates `path` and missing parents with `mode`, fsyncing each parent whose entry list changed.
    public static func makeDirectory(_ path: String, mode: UInt32 = DurableFile.defaultDirectoryMode) throws {
        var st = stat()
        if stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR { return }
        let parent = directory(of: path)
        if parent != path && parent != "." { try makeDirectory(parent, mode: mode) }
        if mkdir(path, mode_t(mode)) != 0 && errno != EEXIST {
            throw ParquetError.io(path: path, operation: "mkdir", errno: errno)
        }
        _ = chmod(path, mode_t(mode))   // exactly, whatever the umask
        try syncDirectory(parent)
    }

    /// Writes `data` to a new file with exactly `mode`, fsynced; fails if the file exists. (With `rename` and
    /// `syncDirectory`, the pieces of a replace that a caller runs in rounds of its own.)
    public static func writeNew(_ data: [UInt8], to path: String, mode: UInt32 = DurableFile.defaultFileMode) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(mode))
        guard fd >= 0 else { throw ParquetError.io(path: path, operation: "create", errno: errno) }
        defer { close(fd) }
        _ = fchmod(fd, mode_t(mode))
        try data.withUnsafeBytes { try writeAll(fd, $0, path: path) }
        guard fsync(fd) == 0 else { throw ParquetError.io(path: path, operation: "fsync", errno: errno) }
    }

    /// Renames `from` to `to` (atomic within a file system; fsync the directory to make it durable).
    public static func rename(_ from: String, to: String) throws {
        #if canImport(Glibc)
        let rc = Glibc.rename(from, to)
        #elseif canImport(Musl)
        let rc = Musl.rename(from, to)
        #else
        let rc = Darwin.rename(from, to)
        #endif
        guard rc == 0 else { throw ParquetError.io(path: to, operation: "rename", errno: errno) }
    }

    /// Atomically replaces `path` by `data`: temporary file, fsync, rename, fsync of the directory. `beforeRename`
    /// lets tests stop half-way (a simulated crash).
    public static func replace(_ path: String, with data: [UInt8], mode: UInt32 = DurableFile.defaultFileMode,
                               beforeRename: (() throws -> Void)? = nil) throws {
        var file = try DurableFile(path: path, mode: mode)
        do {
            try file.write(data)
            guard fsync(file.fd) == 0 else { throw ParquetError.io(path: file.tempPath, operation: "fsync", errno: errno) }
        } catch {
            file.discard()
            throw error
        }
        if let beforeRename {
            // A simulated crash leaves the temporary file behind, as a real one would.
            do { try beforeRename() } catch { close(file.fd); throw error }
        }
        try file.commit(durable: true)
    }

    /// Reads a whole file.
    public static func read(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ParquetError.io(path: path, operation: "open", errno: errno) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ParquetError.io(path: path, operation: "stat", errno: errno) }
        let size = Int(st.st_size)
        var out = [UInt8](repeating: 0, count: size)
        var off = 0
        try out.withUnsafeMutableBytes { buf in
            while off < size, let base = buf.baseAddress {
                let n = pread(fd, base + off, size - off, off_t(off))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ParquetError.io(path: path, operation: "read", errno: errno)
                }
                if n == 0 { break }
                off += n
            }
        }
        return off == size ? out : Array(out[0..<off])
    }

    /// Size in bytes and modification time, or nil when missing.
    public static func fileInfo(_ path: String) -> (size: Int, modified: Date)? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        let t = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
        return (Int(st.st_size), Date(timeIntervalSince1970: t))
    }

    /// Removes a file (a missing one is not an error).
    public static func remove(_ path: String) { unlink(path) }

    /// Writes all of `buf` to `fd`, retrying short and interrupted writes.
    static func writeAll(_ fd: Int32, _ buf: UnsafeRawBufferPointer, path: String) throws {
        var done = 0
        while done < buf.count, let base = buf.baseAddress {
            let n = posixWrite(fd, base + done, buf.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw ParquetError.io(path: path, operation: "write", errno: errno)
            }
            done += n
        }
    }
}
