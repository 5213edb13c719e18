import Foundation
import PulpAPI
import PulpKit
import Testing

/// The sample requests of both spec pages, and a whole flow through the API only.
@Suite("Spec flows through PulpAPI")
struct SpecFlowTests {
    /// A feed folder with two files and their manifest.
    private func makeFeed() throws -> URL {
        let feed = FileManager.default.temporaryDirectory.appendingPathComponent(
            "pulpkit-api-feed-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: feed, withIntermediateDirectories: true)
        var manifest = ""
        for (name, text) in [("a.iso", "alpha"), ("b.iso", "bravo")] {
            try Data(text.utf8).write(to: feed.appendingPathComponent(name))
            manifest += "\(name),\(SHA256.hash(Array(text.utf8)).hex),\(text.utf8.count)\n"
        }
        try Data(manifest.utf8).write(to: feed.appendingPathComponent("PULP_MANIFEST"))
        return feed
    }

    @Test
    func repositorySyncDownloadScheduleAndHistory() async throws {
        let feed = try makeFeed()
        defer { try? FileManager.default.removeItem(at: feed) }
        try await withAPI { api in
            let created = await api.send(
                "POST",
                "/pulp/api/v2/repositories/",
                [
                    "id": "demo", "display_name": "Demo", "importer_type_id": "iso_importer",
                    "importer_config": ["feed": .string(feed.absoluteString), "download_policy": "on_demand"],
                ]
            )
            #expect(created.status == 201)
            #expect(created.headers["Location"] == "/pulp/api/v2/repositories/demo/")
            #expect(await api.send("POST", "/pulp/api/v2/repositories/", ["id": "demo"]).status == 409)
            #expect(await api.send("POST", "/pulp/api/v2/repositories/", ["id": "a/b"]).status == 400)

            // Sync: the spec's sample request.
            let sync = await api.send(
                "POST",
                "/pulp/api/v2/repositories/demo/actions/sync/",
                ["override_config": ["verify_checksum": false, "verify_size": false]]
            )
            let syncTask = try await api.waitForTask(of: sync)
            #expect(syncTask["state"] == "finished")
            #expect(syncTask["tags"] == ["pulp:repository:demo", "pulp:action:sync"])
            #expect(syncTask["result"]?["added_count"] == 2)
            #expect(await api.send("POST", "/v2/repositories/nope/actions/sync/").status == 404)

            // Download: the spec's sample request, then a bad value.
            let download = await api.send(
                "POST",
                "/pulp/api/v2/repositories/demo/actions/download/",
                ["verify_all_units": false]
            )
            let downloadTask = try await api.waitForTask(of: download)
            #expect(downloadTask["tags"] == ["pulp:repository:demo", "pulp:action:download_repo"])
            #expect(downloadTask["result"]?["downloaded_count"] == 2)
            let badDownload = await api.send("POST", "/v2/repositories/demo/actions/download/", ["verify_all_units": 1])
            #expect(badDownload.status == 400)
            #expect(badDownload.body?["property_names"] == ["verify_all_units"])

            // Scheduling: the spec's sample request, list, get, update, delete.
            let schedules = "/pulp/api/v2/repositories/demo/importers/iso_importer/schedules/sync/"
            let schedule = await api.send(
                "POST",
                schedules,
                ["override_config": [:], "schedule": "00:00:00Z/P1DT", "failure_threshold": 3]
            )
            #expect(schedule.status == 201)
            let href = try #require(schedule.body?["_href"]?.stringValue)
            #expect(schedule.headers["Location"] == href)
            #expect(schedule.body?["resource"] == "pulp:importer:demo:iso_importer")
            #expect(schedule.body?["failure_threshold"] == 3)
            #expect((await api.send("GET", schedules)).body?.arrayValue?.count == 1)
            let updated = await api.send("PUT", href, ["schedule": "PT1H", "enabled": false])
            #expect(updated.status == 200 && updated.body?["enabled"] == false && updated.body?["schedule"] == "PT1H")
            #expect(await api.send("POST", schedules, ["schedule": "PT0S", "bogus": 1]).status == 400)
            #expect(await api.send("GET", "/v2/repositories/demo/importers/other/schedules/sync/").status == 404)
            #expect(await api.send("DELETE", href).status == 200)
            #expect(await api.send("GET", href).status == 404)

            // History, with each parameter and bad values together.
            let history = await api.send(
                "GET",
                "/pulp/api/v2/repositories/demo/history/sync/",
                query: [.init("limit", "1"), .init("sort", "ascending"), .init("start_date", "2000-01-01T00:00:00Z")]
            )
            #expect(history.status == 200)
            #expect(history.body?.arrayValue?.count == 1)
            #expect(history.body?[0]?["result"] == "success")
            let badHistory = await api.send(
                "GET",
                "/v2/repositories/demo/history/sync/",
                query: [.init("limit", "0"), .init("sort", "up"), .init("end_date", "2016-03-01")]
            )
            #expect(badHistory.status == 400)
            #expect(Set(badHistory.body?["property_names"]?.arrayValue ?? []) == ["limit", "sort", "end_date"])
            #expect(await api.send("GET", "/v2/repositories/nope/history/sync/").status == 404)

            // Importer, repository details, search, update; deletion as a task.
            #expect(
                (await api.send("GET", "/v2/repositories/demo/importers/iso_importer/")).body?["config"]?[
                    "download_policy"
                ] == "on_demand"
            )
            let details = await api.send("GET", "/v2/repositories/demo/", query: [.init("details", "true")])
            #expect(details.body?["content_unit_counts"] == ["iso": 2])
            #expect(details.body?["importers"]?.arrayValue?.count == 1)
            let search = await api.send("POST", "/v2/repositories/search/", ["criteria": ["filters": ["id": "demo"]]])
            #expect(search.body?.arrayValue?.count == 1)
            let importerUpdate = await api.send(
                "PUT",
                "/v2/repositories/demo/importers/iso_importer/",
                ["importer_config": ["max_downloads": 0]]
            )
            #expect(importerUpdate.status == 400)
            let delete = await api.send("DELETE", "/v2/repositories/demo/")
            #expect(try await api.waitForTask(of: delete)["state"] == "finished")
            #expect(await api.send("GET", "/v2/repositories/demo/").status == 404)
            #expect(await api.send("PATCH", "/v2/repositories/").status == 405)
            #expect(await api.send("GET", "/v2/nothing/here/").status == 404)
        }
    }

    @Test
    func applicabilityThroughUploadsConsumersBindingsAndTheSpecsSampleRequests() async throws {
        try await withAPI { api in
            #expect(await api.send("POST", "/v2/repositories/", ["id": "test-repo"]).status == 201)
            #expect(await api.send("POST", "/v2/repositories/", ["id": "test-errata"]).status == 201)

            // Upload an RPM file, then import it; and an erratum without a file.
            let upload = await api.send("POST", "/pulp/api/v2/content/uploads/")
            #expect(upload.status == 201)
            let uploadID = try #require(upload.body?["upload_id"]?.stringValue)
            let put = await api.handle(
                APIRequest(
                    method: "PUT",
                    path: "/pulp/api/v2/content/uploads/\(uploadID)/0/",
                    body: Array("rpm bytes".utf8)
                )
            )
            #expect(put.status == 200)
            let rpmKey: JSONValue = [
                "name": "zsh", "epoch": "0", "version": "5.1", "release": "1.el7", "arch": "x86_64",
                "checksumtype": "sha256", "checksum": .string(String(repeating: "a", count: 64)),
            ]
            let imported = await api.send(
                "POST",
                "/v2/repositories/test-repo/actions/import_upload/",
                ["upload_id": .string(uploadID), "unit_type_id": "rpm", "unit_key": rpmKey, "unit_metadata": [:]]
            )
            #expect(try await api.waitForTask(of: imported)["state"] == "finished")
            let erratum = await api.send(
                "POST",
                "/v2/repositories/test-errata/actions/import_upload/",
                [
                    "upload_id": nil, "unit_type_id": "erratum", "unit_key": ["id": "RHBA-1"],
                    "unit_metadata": [
                        "pkglist": [
                            [
                                "name": "c", "short": "",
                                "packages": [
                                    [
                                        "name": "zsh", "epoch": "0", "version": "5.1", "release": "1.el7",
                                        "arch": "x86_64",
                                    ]
                                ],
                            ]
                        ]
                    ],
                ]
            )
            #expect(try await api.waitForTask(of: erratum)["state"] == "finished")
            let copy = await api.send(
                "POST",
                "/v2/repositories/test-errata/actions/associate/",
                [
                    "source_repo_id": "test-repo",
                    "criteria": ["type_ids": ["rpm"], "filters": ["unit": ["name": "zsh"]]],
                ]
            )
            #expect(try await api.waitForTask(of: copy)["result"]?["units_successful"]?.arrayValue?.count == 1)
            #expect(await api.send("DELETE", "/v2/content/uploads/\(uploadID)/").status == 200)

            // Consumers with profiles (sunflower and voyager on an older zsh), bound to both repositories.
            for consumer in ["sunflower", "voyager"] {
                #expect(await api.send("POST", "/v2/consumers/", ["id": .string(consumer)]).status == 201)
                let profile = await api.send(
                    "POST",
                    "/v2/consumers/\(consumer)/profiles/",
                    [
                        "content_type": "rpm",
                        "profile": [
                            [
                                "name": "zsh", "epoch": 0, "version": "5.0", "release": "1.el7", "arch": "x86_64",
                                "vendor": "",
                            ]
                        ],
                    ]
                )
                #expect(profile.status == 201)
                for repository in ["test-repo", "test-errata"] {
                    let bound = await api.send(
                        "POST",
                        "/v2/consumers/\(consumer)/bindings/",
                        ["repo_id": .string(repository)]
                    )
                    #expect(bound.status == 200)
                }
            }
            #expect(await api.send("POST", "/v2/consumers/nope/bindings/", ["repo_id": "test-repo"]).status == 404)

            // The spec's three regeneration requests.
            let byConsumers = await api.send(
                "POST",
                "/pulp/api/v2/consumers/actions/content/regenerate_applicability/",
                ["consumer_criteria": ["filters": ["id": ["$in": ["sunflower", "voyager"]]]]]
            )
            let regeneration = try await api.waitForTask(of: byConsumers)
            #expect(regeneration["tags"] == ["pulp:action:content_applicability_regeneration"])
            let byRepositories = await api.send(
                "POST",
                "/pulp/api/v2/repositories/actions/content/regenerate_applicability/",
                ["repo_criteria": ["filters": ["id": ["$in": ["test-repo", "test-errata"]]]], "parallel": true]
            )
            #expect(byRepositories.status == 202)
            let group = try #require(byRepositories.body?["group_id"]?.stringValue)
            let summary = await api.send("GET", "/pulp/api/v2/task_groups/\(group)/state-summary/")
            #expect(summary.status == 200 && summary.body?["total"] != nil)
            let single = await api.send("POST", "/v2/consumers/sunflower/actions/content/regenerate_applicability/")
            _ = try await api.waitForTask(of: single)
            #expect(
                await api.send("POST", "/v2/consumers/nope/actions/content/regenerate_applicability/").status == 404
            )

            // The spec's query: both consumers collated into one report.
            let query = await api.send(
                "POST",
                "/pulp/api/v2/consumers/content/applicability/",
                [
                    "criteria": ["filters": ["id": ["$in": ["sunflower", "voyager"]]]],
                    "content_types": ["rpm", "erratum"],
                ]
            )
            #expect(query.status == 200)
            let reports = try #require(query.body?.arrayValue)
            #expect(reports.count == 1)
            #expect(reports.first?["consumers"] == ["sunflower", "voyager"])
            #expect(reports.first?["applicability"]?["rpm"]?.arrayValue?.count == 1)
            #expect(reports.first?["applicability"]?["erratum"]?.arrayValue?.count == 1)
            let badQuery = await api.send("POST", "/v2/consumers/content/applicability/", ["criteria": 5])
            #expect(badQuery.status == 400)
            #expect(await api.send("POST", "/v2/consumers/content/applicability/", body: "{not json").status == 400)

            // Unbind and delete clean up.
            #expect(await api.send("DELETE", "/v2/consumers/voyager/bindings/test-repo/").status == 200)
            #expect(await api.send("DELETE", "/v2/consumers/voyager/").status == 200)
            #expect(await api.send("GET", "/v2/consumers/voyager/").status == 404)
        }
    }
}

extension PulpAPI {
    /// Sends a raw text body.
    func send(_ method: String, _ path: String, body: String) async -> APIResponse {
        await handle(APIRequest(method: method, path: path, body: Array(body.utf8)))
    }
}

@Suite("Hostile requests")
struct HostileRequestTests {
    @Test
    func oversizedBodiesDeepNestingAndOddIDsAreRefusedCleanly() async throws {
        try await withAPI { base in
            let api = PulpAPI(pulp: base.pulp, maximumBodySize: 1024)
            let big = await api.send(
                "POST",
                "/v2/repositories/",
                body: "{\"id\": \"\(String(repeating: "x", count: 2000))\"}"
            )
            #expect(big.status == 413)
            #expect(big.body?["property_names"] == ["body"])
            let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
            let nested = await base.send("POST", "/v2/repositories/", body: deep)
            #expect(nested.status == 400)
            for id in ["%2F", "a%2Fb", "caf%C3%A9", "100%25"] {
                let response = await base.send("GET", "/v2/repositories/\(id)/")
                #expect(response.status == 404, "\(id)")
            }
            let unicode = await base.send("POST", "/v2/repositories/", ["id": "café-☕"])
            #expect(unicode.status == 201)
            #expect(await base.send("GET", "/v2/repositories/caf%C3%A9-%E2%98%95/").status == 200)
            let slash = await base.send("POST", "/v2/repositories/", ["id": "a/b"])
            #expect(slash.status == 400 && slash.body?["property_names"] == ["id"])
            #expect(await base.send("GET", "/v2/repositories/").body?.arrayValue?.count == 1)
        }
    }
}
