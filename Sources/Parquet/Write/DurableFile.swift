#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Appends bytes to a new file at a temporary name next to the final path, counting bytes and computing the
/// CRC-32 as it goes; `commit` fsyncs, renames to the final name and fsyncs the directory.
struct DurableFile {
    let path: String
    let tempPath: String
    private var fd: Int32
    private(set) var offset: Int64 = 0
    private(set) var crc = CRC32()

    init(path: String, mode: UInt32) throws {
        self.path = path
        let slash = path.lastIndex(of: "/")
        let dir = slash.map { String(path[..<$0]) } ?? "."
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        tempPath = (dir.isEmpty ? "" : dir + "/") + "." + base + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        fd = open(tempPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(mode))
        guard fd >= 0 else { throw ParquetError.io(path: tempPath, operation: "open", errno: errno) }
        // The umask may have narrowed the mode; set it exactly.
        _ = fchmod(fd, mode_t(mode))
    }

    mutating func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    mutating func write(_ buf: UnsafeRawBufferPointer) throws {
        crc.update(buf)
        var done = 0
        while done < buf.count {
            let n = posixWrite(fd, buf.baseAddress! + done, buf.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw ParquetError.io(path: tempPath, operation: "write", errno: errno)
            }
            done += n
        }
        offset += Int64(buf.count)
    }

    /// Flushes, optionally fsyncs, and renames into place.
    mutating func commit(durable: Bool) throws {
        if durable, fsync(fd) != 0 { throw ParquetError.io(path: tempPath, operation: "fsync", errno: errno) }
        guard close(fd) == 0 else { fd = -1; throw ParquetError.io(path: tempPath, operation: "close", errno: errno) }
        fd = -1
        guard rename(tempPath, path) == 0 else { throw ParquetError.io(path: path, operation: "rename", errno: errno) }
        if durable {
            let slash = path.lastIndex(of: "/")
            let dir = slash.map { String(path[..<$0]) } ?? "."
            let dfd = open(dir.isEmpty ? "/" : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard dfd >= 0 else { throw ParquetError.io(path: dir, operation: "open directory", errno: errno) }
            defer { close(dfd) }
            guard fsync(dfd) == 0 else { throw ParquetError.io(path: dir, operation: "fsync directory", errno: errno) }
        }
    }

    /// Closes and removes the temporary file (after an error or when the caller aborts).
    mutating func discard() {
        if fd >= 0 { close(fd); fd = -1 }
        unlink(tempPath)
    }
}
