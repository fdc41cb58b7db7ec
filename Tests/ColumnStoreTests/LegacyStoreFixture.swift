import Foundation

/// A store written by Freshet 0626244 (before `TableName`: table directories were `schema.table` as written), by
/// `freshet run --schema legacy` over `legacy.orders` (3 rows), `legacy."pct%name"` (1 row) and `legacy."q""uote"`
/// (1 row). The files as they were, base64.
enum LegacyStoreFixture {
    static let files: [(path: String, base64: String)] = [
        ("store.json",
            "ewogICJjaGVja3BvaW50TFNOIiA6IDI2NzE4NjI0LAogICJmb3JtYXRWZXJzaW9uIiA6IDEsCiAgInB1YmxpY2F0aW9uIiA6ICJu" +
            "YW1lc19sZWdhY3kiLAogICJzbG90IiA6ICJuYW1lc19sZWdhY3kiLAogICJzeXN0ZW1JZGVudGlmaWVyIiA6ICI3NzEzOTEzNTk2" +
            "Mjk3MjYwNjgyIgp9"),
        ("tables/legacy.orders/manifest.json",
            "ewogICJjb21taXR0ZWRMU04iIDogMjY3MTgyMTYsCiAgImZvcm1hdFZlcnNpb24iIDogMSwKICAiZ2VuZXJhdGlvbiIgOiAyLAog" +
            "ICJrZXlDb2x1bW5zIiA6IFsKICAgICJpZCIKICBdLAogICJwYXJ0aXRpb25pbmciIDogewogICAgImJ1Y2tldHMiIDogMSwKICAg" +
            "ICJraW5kIiA6ICJoYXNoIgogIH0sCiAgInBhcnRzIiA6IFsKICAgIHsKICAgICAgImJ5dGVzIiA6IDg1MiwKICAgICAgImNoZWNr" +
            "c3VtIiA6ICJjcmMzMjphNDNmMWNkMSIsCiAgICAgICJnZW5lcmF0aW9uIiA6IDIsCiAgICAgICJsZXZlbCIgOiAwLAogICAgICAi" +
            "bWF4VmVyc2lvbiIgOiAyNjcxODIxNiwKICAgICAgIm1pblZlcnNpb24iIDogMjY3MTgyMTYsCiAgICAgICJwYXJ0aXRpb24iIDog" +
            "Img9MDAwIiwKICAgICAgInBhdGgiIDogInBhcnRzXC9oPTAwMFwvbDAtNjdiMGFmNTMtZmFlOC00ODA1LTg3MTUtOTBhMGU1N2Y1" +
            "MDdmLnBhcnF1ZXQiLAogICAgICAicm93cyIgOiAzLAogICAgICAic2NoZW1hVmVyc2lvbiIgOiAxLAogICAgICAidG9tYnN0b25l" +
            "cyIgOiAwCiAgICB9CiAgXSwKICAic2NoZW1hVmVyc2lvbnMiIDogWwogICAgewogICAgICAiY29sdW1ucyIgOiBbCiAgICAgICAg" +
            "ewogICAgICAgICAgIm5hbWUiIDogImlkIiwKICAgICAgICAgICJudWxsYWJsZSIgOiB0cnVlLAogICAgICAgICAgInR5cGUiIDog" +
            "ImludDMyIgogICAgICAgIH0sCiAgICAgICAgewogICAgICAgICAgIm5hbWUiIDogIm5vdGUiLAogICAgICAgICAgIm51bGxhYmxl" +
            "IiA6IHRydWUsCiAgICAgICAgICAidHlwZSIgOiAic3RyaW5nIgogICAgICAgIH0sCiAgICAgICAgewogICAgICAgICAgIm5hbWUi" +
            "IDogInF0eSIsCiAgICAgICAgICAibnVsbGFibGUiIDogdHJ1ZSwKICAgICAgICAgICJ0eXBlIiA6ICJpbnQ2NCIKICAgICAgICB9" +
            "CiAgICAgIF0sCiAgICAgICJ2ZXJzaW9uIiA6IDEKICAgIH0KICBdLAogICJzZXF1ZW5jZSIgOiAyLAogICJ0YWJsZSIgOiAibGVn" +
            "YWN5Lm9yZGVycyIKfQ=="),
        ("tables/legacy.orders/parts/h=000/l0-67b0af53-fae8-4805-8715-90a0e57f507f.parquet",
            "UEFSMRUAFSQVKCwVBhUAFQYVBgAA8AMCAAAAAwcBAAAAAgAAAAMAAAAVABVGFUosFQYVABUGFQYAAPAUAgAAAAMDAwAAAG9uZRIA" +
            "AAB0d28sIHdpdGggInF1b3RlcyIVABU8FTIsFQYVABUGFQYAAIICAAAAAwcKAAEAEhQHAJAAHgAAAAAAAAAVBBUQFRJMFQIVAAAA" +
            "gAiwlwEAAAAAFQAVBhUILBUGFRAVBhUGAAAwAQMAFQAVAhUELBUGFQAVBhUGAAAQABUAFQwVDiwVBhUAFQYVBgAAYAIAAAADABUC" +
            "GXxIBnNjaGVtYRUMABUCJQIYAmlkABUMJQIYBG5vdGUlAEwcAAAAFQQlAhgDcXR5ABUEJQAYCF92ZXJzaW9uABUAJQAYCF9kZWxl" +
            "dGVkABUMJQIYCl91bmNoYW5nZWQlAEwcAAAAFgYZHBlsJggcFQIZJQAGGRgCaWQVDhYGFkYWSiYIPDYAKAQDAAAAGAQBAAAAAAAA" +
            "JlIcFQwZJQAGGRgEbm90ZRUOFgYWaBZsJlI8NgIoEnR3bywgd2l0aCAicXVvdGVzIhgDb25lAAAAJr4BHBUEGSUABhkYA3F0eRUO" +
            "FgYWXhZUJr4BPDYAKAgeAAAAAAAAABgICgAAAAAAAAAAAAAmkgIcFQQZNQAGEBkYCF92ZXJzaW9uFQ4WBhZSFlYmvgImkgIcNgAo" +
            "CAiwlwEAAAAAGAgIsJcBAAAAAAAAACboAhwVABklAAYZGAhfZGVsZXRlZBUOFgYWJBYmJugCPDYAKAEAGAEAAAAAJo4DHBUMGSUA" +
            "BhkYCl91bmNoYW5nZWQVDhYGFi4WMCaOAzw2BgAAABawAxYGJggWtgMUAAAZXBgNZnJlc2hldC50YWJsZRgNbGVnYWN5Lm9yZGVy" +
            "cwAYFmZyZXNoZXQuc2NoZW1hX3ZlcnNpb24YATEAGBNmcmVzaGV0Lm1pbl92ZXJzaW9uGAgyNjcxODIxNgAYE2ZyZXNoZXQubWF4" +
            "X3ZlcnNpb24YCDI2NzE4MjE2ABgNZnJlc2hldC5sZXZlbBgBMAAYIWZyZXNoZXQgdmVyc2lvbiAwLjEuMCAoYnVpbGQgZGV2KRls" +
            "HAAAHAAAHAAAHAAAHAAAHAAAAG0CAABQQVIx"),
        ("tables/legacy.pct%name/manifest.json",
            "ewogICJjb21taXR0ZWRMU04iIDogMjY3MTgyMTYsCiAgImZvcm1hdFZlcnNpb24iIDogMSwKICAiZ2VuZXJhdGlvbiIgOiAyLAog" +
            "ICJrZXlDb2x1bW5zIiA6IFsKICAgICJpZCIKICBdLAogICJwYXJ0aXRpb25pbmciIDogewogICAgImJ1Y2tldHMiIDogMSwKICAg" +
            "ICJraW5kIiA6ICJoYXNoIgogIH0sCiAgInBhcnRzIiA6IFsKICAgIHsKICAgICAgImJ5dGVzIiA6IDY2NCwKICAgICAgImNoZWNr" +
            "c3VtIiA6ICJjcmMzMjphYTM5YTM3YyIsCiAgICAgICJnZW5lcmF0aW9uIiA6IDIsCiAgICAgICJsZXZlbCIgOiAwLAogICAgICAi" +
            "bWF4VmVyc2lvbiIgOiAyNjcxODIxNiwKICAgICAgIm1pblZlcnNpb24iIDogMjY3MTgyMTYsCiAgICAgICJwYXJ0aXRpb24iIDog" +
            "Img9MDAwIiwKICAgICAgInBhdGgiIDogInBhcnRzXC9oPTAwMFwvbDAtMmNlNjNjOGUtMGQ1MS00MzhhLThkMzQtM2ZkZjg3ZTBj" +
            "YWFlLnBhcnF1ZXQiLAogICAgICAicm93cyIgOiAxLAogICAgICAic2NoZW1hVmVyc2lvbiIgOiAxLAogICAgICAidG9tYnN0b25l" +
            "cyIgOiAwCiAgICB9CiAgXSwKICAic2NoZW1hVmVyc2lvbnMiIDogWwogICAgewogICAgICAiY29sdW1ucyIgOiBbCiAgICAgICAg" +
            "ewogICAgICAgICAgIm5hbWUiIDogImlkIiwKICAgICAgICAgICJudWxsYWJsZSIgOiB0cnVlLAogICAgICAgICAgInR5cGUiIDog" +
            "ImludDMyIgogICAgICAgIH0sCiAgICAgICAgewogICAgICAgICAgIm5hbWUiIDogInYiLAogICAgICAgICAgIm51bGxhYmxlIiA6" +
            "IHRydWUsCiAgICAgICAgICAidHlwZSIgOiAic3RyaW5nIgogICAgICAgIH0KICAgICAgXSwKICAgICAgInZlcnNpb24iIDogMQog" +
            "ICAgfQogIF0sCiAgInNlcXVlbmNlIiA6IDIsCiAgInRhYmxlIiA6ICJsZWdhY3kucGN0JW5hbWUiCn0="),
        ("tables/legacy.pct%name/parts/h=000/l0-2ce63c8e-0d51-438a-8d34-3fdf87e0caae.parquet",
            "UEFSMRUAFRQVFiwVAhUAFQYVBgAAoAIAAAADAQEAAAAVABUWFRgsFQIVABUGFQYAALACAAAAAwEBAAAAcBUAFRAVEiwVAhUAFQYV" +
            "BgAAgAiwlwEAAAAAFQAVAhUELBUCFQAVBhUGAAAQABUAFQwVDiwVAhUAFQYVBgAAYAIAAAADABUCGWxIBnNjaGVtYRUKABUCJQIY" +
            "AmlkABUMJQIYAXYlAEwcAAAAFQQlABgIX3ZlcnNpb24AFQAlABgIX2RlbGV0ZWQAFQwlAhgKX3VuY2hhbmdlZCUATBwAAAAWAhkc" +
            "GVwmCBwVAhklAAYZGAJpZBUOFgIWNhY4Jgg8NgAoBAEAAAAYBAEAAAAAAAAmQBwVDBklAAYZGAF2FQ4WAhY4FjomQDw2ACgBcBgB" +
            "cAAAACZ6HBUEGSUABhkYCF92ZXJzaW9uFQ4WAhYyFjQmejw2ACgICLCXAQAAAAAYCAiwlwEAAAAAAAAAJq4BHBUAGSUABhkYCF9k" +
            "ZWxldGVkFQ4WAhYkFiYmrgE8NgAoAQAYAQAAAAAm1AEcFQwZJQAGGRgKX3VuY2hhbmdlZBUOFgIWLhYwJtQBPDYCAAAAFvIBFgIm" +
            "CBb8ARQAABlcGA1mcmVzaGV0LnRhYmxlGA9sZWdhY3kucGN0JW5hbWUAGBZmcmVzaGV0LnNjaGVtYV92ZXJzaW9uGAExABgTZnJl" +
            "c2hldC5taW5fdmVyc2lvbhgIMjY3MTgyMTYAGBNmcmVzaGV0Lm1heF92ZXJzaW9uGAgyNjcxODIxNgAYDWZyZXNoZXQubGV2ZWwY" +
            "ATAAGCFmcmVzaGV0IHZlcnNpb24gMC4xLjAgKGJ1aWxkIGRldikZXBwAABwAABwAABwAABwAAAAOAgAAUEFSMQ=="),
        ("tables/legacy.q\"uote/manifest.json",
            "ewogICJjb21taXR0ZWRMU04iIDogMjY3MTgyMTYsCiAgImZvcm1hdFZlcnNpb24iIDogMSwKICAiZ2VuZXJhdGlvbiIgOiAyLAog" +
            "ICJrZXlDb2x1bW5zIiA6IFsKICAgICJpZCIKICBdLAogICJwYXJ0aXRpb25pbmciIDogewogICAgImJ1Y2tldHMiIDogMSwKICAg" +
            "ICJraW5kIiA6ICJoYXNoIgogIH0sCiAgInBhcnRzIiA6IFsKICAgIHsKICAgICAgImJ5dGVzIiA6IDY2MiwKICAgICAgImNoZWNr" +
            "c3VtIiA6ICJjcmMzMjphZDhhODViNCIsCiAgICAgICJnZW5lcmF0aW9uIiA6IDIsCiAgICAgICJsZXZlbCIgOiAwLAogICAgICAi" +
            "bWF4VmVyc2lvbiIgOiAyNjcxODIxNiwKICAgICAgIm1pblZlcnNpb24iIDogMjY3MTgyMTYsCiAgICAgICJwYXJ0aXRpb24iIDog" +
            "Img9MDAwIiwKICAgICAgInBhdGgiIDogInBhcnRzXC9oPTAwMFwvbDAtY2Q5M2YxZGQtNmE5OS00ZGZiLTlhNDYtNzE1ZjEwOWY3" +
            "MDdlLnBhcnF1ZXQiLAogICAgICAicm93cyIgOiAxLAogICAgICAic2NoZW1hVmVyc2lvbiIgOiAxLAogICAgICAidG9tYnN0b25l" +
            "cyIgOiAwCiAgICB9CiAgXSwKICAic2NoZW1hVmVyc2lvbnMiIDogWwogICAgewogICAgICAiY29sdW1ucyIgOiBbCiAgICAgICAg" +
            "ewogICAgICAgICAgIm5hbWUiIDogImlkIiwKICAgICAgICAgICJudWxsYWJsZSIgOiB0cnVlLAogICAgICAgICAgInR5cGUiIDog" +
            "ImludDMyIgogICAgICAgIH0sCiAgICAgICAgewogICAgICAgICAgIm5hbWUiIDogInYiLAogICAgICAgICAgIm51bGxhYmxlIiA6" +
            "IHRydWUsCiAgICAgICAgICAidHlwZSIgOiAic3RyaW5nIgogICAgICAgIH0KICAgICAgXSwKICAgICAgInZlcnNpb24iIDogMQog" +
            "ICAgfQogIF0sCiAgInNlcXVlbmNlIiA6IDIsCiAgInRhYmxlIiA6ICJsZWdhY3kucVwidW90ZSIKfQ=="),
        ("tables/legacy.q\"uote/parts/h=000/l0-cd93f1dd-6a99-4dfb-9a46-715f109f707e.parquet",
            "UEFSMRUAFRQVFiwVAhUAFQYVBgAAoAIAAAADAQcAAAAVABUWFRgsFQIVABUGFQYAALACAAAAAwEBAAAAcRUAFRAVEiwVAhUAFQYV" +
            "BgAAgAiwlwEAAAAAFQAVAhUELBUCFQAVBhUGAAAQABUAFQwVDiwVAhUAFQYVBgAAYAIAAAADABUCGWxIBnNjaGVtYRUKABUCJQIY" +
            "AmlkABUMJQIYAXYlAEwcAAAAFQQlABgIX3ZlcnNpb24AFQAlABgIX2RlbGV0ZWQAFQwlAhgKX3VuY2hhbmdlZCUATBwAAAAWAhkc" +
            "GVwmCBwVAhklAAYZGAJpZBUOFgIWNhY4Jgg8NgAoBAcAAAAYBAcAAAAAAAAmQBwVDBklAAYZGAF2FQ4WAhY4FjomQDw2ACgBcRgB" +
            "cQAAACZ6HBUEGSUABhkYCF92ZXJzaW9uFQ4WAhYyFjQmejw2ACgICLCXAQAAAAAYCAiwlwEAAAAAAAAAJq4BHBUAGSUABhkYCF9k" +
            "ZWxldGVkFQ4WAhYkFiYmrgE8NgAoAQAYAQAAAAAm1AEcFQwZJQAGGRgKX3VuY2hhbmdlZBUOFgIWLhYwJtQBPDYCAAAAFvIBFgIm" +
            "CBb8ARQAABlcGA1mcmVzaGV0LnRhYmxlGA1sZWdhY3kucSJ1b3RlABgWZnJlc2hldC5zY2hlbWFfdmVyc2lvbhgBMQAYE2ZyZXNo" +
            "ZXQubWluX3ZlcnNpb24YCDI2NzE4MjE2ABgTZnJlc2hldC5tYXhfdmVyc2lvbhgIMjY3MTgyMTYAGA1mcmVzaGV0LmxldmVsGAEw" +
            "ABghZnJlc2hldCB2ZXJzaW9uIDAuMS4wIChidWlsZCBkZXYpGVwcAAAcAAAcAAAcAAAcAAAADAIAAFBBUjE="),
    ]

    /// Writes the fixture's files under `directory`.
    static func write(to directory: URL) throws {
        for f in files {
            let url = directory.appendingPathComponent(f.path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            guard let data = Data(base64Encoded: f.base64) else { throw CocoaError(.fileReadCorruptFile) }
            try data.write(to: url)
        }
    }
}
