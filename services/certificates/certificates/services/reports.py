"""Webinar platforms' attendance reports, read into rows of (email, name, join, leave) in UTC.

Reads the Zoom webinar attendee report, the Zoom meeting participants report and the Microsoft
Teams attendance report as they are exported, with English or German column names. Times without
an offset are in the time zone of the account that ran the meeting (DOMAIN.md): reading them as
UTC would shift everyone's attendance by hours, so the caller names that zone. A row that cannot
be read fails the whole file with its line and the reason, so nothing is imported half-way.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import openpyxl

from suite_common.emails import loose_email_key

ZOOM_WEBINAR = "zoom-webinar-attendee"
ZOOM_MEETING = "zoom-meeting-participants"
TEAMS = "teams-attendance"
WEBEX = "webex-attendee"
GOTO_WEBINAR = "goto-webinar-attendee"
NOT_A_REPORT = "not a Zoom, Teams, Webex or GoTo Webinar attendance report"


class ReportError(ValueError):
    """Why a file cannot be imported; line is 1-based, as a text editor counts."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class AttendanceRow:
    """One join-to-leave stretch of one person; someone who rejoined has several rows."""

    line: int
    email: str
    name: str
    join: datetime
    leave: datetime


@dataclass(frozen=True)
class ParsedReport:
    """format is one of ZOOM_WEBINAR, ZOOM_MEETING, TEAMS; digest is the SHA-256 of the raw bytes,
    so the same upload can be recognised and attendance traced to the file it came from."""

    format: str
    rows: list[AttendanceRow]
    skipped: list[tuple[int, str]]
    metadata: dict[str, str]
    digest: str
    timezone: str


def _norm(text: str) -> str:
    return " ".join(text.replace("\ufeff", "").strip().lower().split())


def _aliases(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {alias: key for key, aliases in table.items() for alias in aliases}


# Column names as the platforms export them, per language; lower-case, single spaces. English and German are
# taken from real exports. The other languages are DERIVED, not copied from an export we have seen: each is the
# English label put in the words that Zoom's and Microsoft's own localised help pages and UIs use for the same
# thing ("wachtkamer", "salle d'attente", "sala de espera"; Teams' "Deelnemers", "Participants", "Partecipanti").
# Unknown labels are ignored, so a wrong guess only means a column is not found, never that a wrong one is read.
_COLUMN_NAMES: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "attended": ("attended",),
        "name": ("user name (original name)", "name (original name)", "name", "full name", "attendee name",
                 "participant name"),
        "first_name": ("first name",),
        "last_name": ("last name",),
        "email": ("email", "e-mail", "user email", "email address", "attendee email", "participant email"),
        "upn": ("participant id (upn)",),
        "join": ("join time", "first join"),
        "leave": ("leave time", "last leave"),
        "waiting_room": ("in waiting room",),
        "action": ("user action",),
        "timestamp": ("timestamp",),
        "timezone": ("time zone",),
    },
    "de": {
        "attended": ("teilgenommen",),
        "name": ("benutzername (ursprünglicher name)", "name (ursprünglicher name)", "vollständiger name"),
        "first_name": ("vorname",),
        "last_name": ("nachname",),
        "email": ("e-mail-adresse", "benutzer-e-mail"),
        "upn": ("teilnehmer-id (upn)",),
        "join": ("beitrittszeit", "zeitpunkt des beitritts", "erster beitritt"),
        "leave": ("zeitpunkt des verlassens", "austrittszeit", "letztes verlassen"),
        "waiting_room": ("im warteraum",),  # derived from Zoom's German UI ("Warteraum")
        "action": ("benutzeraktion",),
        "timestamp": ("zeitstempel",),
        "timezone": ("zeitzone",),
    },
    "nl": {  # derived
        "attended": ("deelgenomen", "aanwezig"),
        "name": ("gebruikersnaam (oorspronkelijke naam)", "naam (oorspronkelijke naam)", "naam", "volledige naam"),
        "first_name": ("voornaam",),
        "last_name": ("achternaam",),
        "email": ("e-mailadres", "e-mail gebruiker", "e-mailadres gebruiker"),
        "upn": ("deelnemer-id (upn)",),
        "join": ("tijd van deelname", "deelnametijd", "eerste deelname"),
        "leave": ("tijd van vertrek", "vertrektijd", "laatste vertrek"),
        "waiting_room": ("in wachtkamer", "in de wachtkamer"),
        "action": ("gebruikersactie",),
        "timestamp": ("tijdstempel",),
        "timezone": ("tijdzone",),
    },
    "fr": {  # derived
        "attended": ("a participé", "présent"),
        "name": ("nom d'utilisateur (nom d'origine)", "nom (nom d'origine)", "nom", "nom complet"),
        "first_name": ("prénom",),
        "last_name": ("nom de famille",),
        "email": ("adresse e-mail", "e-mail de l'utilisateur", "courrier électronique"),
        "upn": ("id du participant (upn)",),
        "join": ("heure d'arrivée", "heure de participation", "première arrivée"),
        "leave": ("heure de départ", "dernier départ"),
        "waiting_room": ("dans la salle d'attente",),
        "action": ("action de l'utilisateur",),
        "timestamp": ("horodatage",),
        "timezone": ("fuseau horaire",),
    },
    "es": {  # derived
        "attended": ("asistió",),
        "name": ("nombre de usuario (nombre original)", "nombre (nombre original)", "nombre", "nombre completo"),
        "last_name": ("apellido", "apellidos"),
        "email": ("correo electrónico", "correo electrónico del usuario"),
        "upn": ("id. de participante (upn)", "id de participante (upn)"),
        "join": ("hora de entrada", "hora de ingreso", "hora de unión", "primera entrada", "primera unión"),
        "leave": ("hora de salida", "última salida"),
        "waiting_room": ("en la sala de espera",),
        "action": ("acción del usuario",),
        "timestamp": ("marca de tiempo",),
        "timezone": ("zona horaria",),
    },
    "it": {  # derived
        "attended": ("ha partecipato", "partecipato"),
        "name": ("nome utente (nome originale)", "nome (nome originale)", "nome", "nome completo"),
        "last_name": ("cognome",),
        "email": ("indirizzo e-mail", "e-mail utente", "posta elettronica"),
        "upn": ("id partecipante (upn)",),
        "join": ("ora di ingresso", "ora di accesso", "primo accesso"),
        "leave": ("ora di uscita", "ultima uscita"),
        "waiting_room": ("nella sala d'attesa",),
        "action": ("azione utente",),
        "timezone": ("fuso orario",),
    },
    "pt": {  # derived
        "attended": ("participou",),
        "name": ("nome de usuário (nome original)", "nome (nome original)", "nome", "nome completo"),
        "last_name": ("sobrenome", "apelido"),
        "email": ("e-mail do usuário", "endereço de e-mail"),
        "upn": ("id do participante (upn)",),
        "join": ("hora de entrada", "primeira entrada"),
        "leave": ("hora de saída", "última saída"),
        "waiting_room": ("na sala de espera",),
        "action": ("ação do usuário",),
        "timestamp": ("carimbo de data/hora",),
        "timezone": ("fuso horário",),
    },
}
COLUMNS = {alias: key for names in _COLUMN_NAMES.values() for key, aliases in names.items() for alias in aliases}
# "Nombre", "Nome", "Nom", "Naam" are the whole name in Teams but the first or last name in Zoom's webinar export,
# beside a "user name (original name)" column: such a generic label never replaces a name column already found.
_WEAK = {"name", "naam", "nom", "nombre", "nome"}
# A header in any language but English means a European export, where 03/05 is 3 May (DD/MM).
_DAY_FIRST_LABELS = ({alias for language, names in _COLUMN_NAMES.items() if language != "en"
                      for aliases in names.values() for alias in aliases}
                     - {alias for aliases in _COLUMN_NAMES["en"].values() for alias in aliases})
ZOOM_SECTIONS = _aliases({
    "host": ("host details", "host-details", "details zum host",
             "hostgegevens", "détails de l'hôte", "detalles del anfitrión", "dettagli host", "detalhes do anfitrião"),
    "panelist": ("panelist details", "diskussionsteilnehmer-details", "diskussionsteilnehmerdetails",
                 "gegevens panelleden", "détails des panélistes", "detalles de los panelistas", "dettagli relatori",
                 "detalhes dos painelistas"),
    "attendee": ("attendee details", "teilnehmer-details", "teilnehmerdetails",
                 "deelnemersgegevens", "gegevens deelnemers", "détails des participants", "detalles de los asistentes",
                 "dettagli partecipanti", "detalhes dos participantes"),
    "other": ("other attended", "andere teilnehmer", "staff details"),
})
TEAMS_SECTIONS = _aliases({
    "summary": ("summary", "zusammenfassung", "samenvatting", "résumé", "resumen", "riepilogo", "resumo"),
    "participants": ("participants", "teilnehmer", "deelnemers", "participantes", "partecipanti"),
    "activities": ("in-meeting activities", "aktivitäten in der besprechung", "activiteiten tijdens de vergadering",
                   "activités de la réunion", "actividades de la reunión", "attività della riunione",
                   "atividades da reunião"),
})
METADATA = _aliases({
    "topic": ("topic", "thema", "meeting title", "besprechungstitel", "onderwerp", "sujet", "tema", "argomento",
              "tópico", "titel van vergadering", "titre de la réunion", "título de la reunión", "titolo riunione",
              "título da reunião", "webinar name", "attendee report:"),
    "webinar_id": ("webinar id", "webinar-id"),
    "meeting_id": ("meeting id", "meeting-id"),
    "actual_start": ("actual start time", "tatsächliche startzeit", "start time", "startzeit", "meeting start time",
                     "actual start date/time", "begintijd", "starttijd", "heure de début", "hora de inicio",
                     "ora di inizio", "hora de início"),
    "actual_end": ("end time", "endzeit", "meeting end time"),
    "actual_duration_minutes": ("actual duration (minutes)", "tatsächliche dauer (minuten)"),
    "report_generated": ("report generated", "report generated:", "bericht erstellt", "bericht erstellt:"),
})
TIME_METADATA = ("actual_start", "actual_end", "report_generated")
# Yes and No as the exports write them; other than English and German derived, as the column names above.
DID_NOT_ATTEND = {"no", "nein", "nee", "non", "não", "nao"}
YES = {"yes", "ja", "oui", "sí", "si", "sì", "sim"}
# The older Teams list (Full Name, User Action, Timestamp): one row per join or leave. "Joined before" is
# someone already in the meeting when the list began. Non-English values derived.
JOINED = {"joined", "joined before", "beigetreten", "vorher beigetreten", "deelgenomen", "eerder deelgenomen",
          "a rejoint", "rejoint", "unido", "se unió", "si è unito", "entrou", "ingressou"}
LEFT = {"left", "verlassen", "hat verlassen", "vertrokken", "parti", "a quitté", "salió", "abandonó", "uscito",
        "ha abbandonato", "saiu"}
_TEAMS_TITLE = re.compile(r"^\d+\.\s*(.+)$")
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}")
# A zone after the time: GoTo Webinar writes one ("06:00 PM CET"; uncertain, see _goto), Webex sometimes "GMT+01:00".
# UTC/GMT with or without an offset is honoured; an abbreviation such as CET or EST is ambiguous across the world,
# so it is read as the account's zone, which is what the platform printed it in.
_ZONE_SUFFIX = r"(?:\s+\(?(?P<zone>(?:UTC|GMT)(?:[+-]\d{1,2}(?::?\d{2})?)?|[A-Z]{2,5})\)?)?"
_NUMERIC_TIME = re.compile(
    r"^(?P<a>\d{1,2})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)(?P<year>\d{4}|\d{2})(?P<comma>,?)\s+"
    r"(?P<hour>\d{1,2})[:h](?P<minute>\d{2})(?::(?P<second>\d{2}))?\s*(?P<ampm>[AaPp]\.?\s?[Mm]\.?)?"
    + _ZONE_SUFFIX + "$")
_NAMED_TIME = re.compile(
    r"^(?P<month>[A-Za-z]{3})[a-z]*\.? (?P<day>\d{1,2}), (?P<year>\d{4}),? "
    r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?\s*(?P<ampm>[AaPp][Mm])?" + _ZONE_SUFFIX + "$")
_OFFSET = re.compile(r"^(?:UTC|GMT)(?:(?P<sign>[+-])(?P<hours>\d{1,2})(?::?(?P<minutes>\d{2}))?)?")
_MONTHS = {name: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}

# Bounds on an Excel workbook, so that a hostile or broken file cannot take the worker's memory or time: a
# 10,000-person webinar with rejoins is far below them.
XLSX_MAX_UNPACKED_BYTES = 100 * 1024 * 1024
XLSX_MAX_ROWS = 200_000
XLSX_MAX_COLUMNS = 100

Record = tuple[int, list[str]]


def _offset_zone(text: str) -> tzinfo | None:
    """'UTC', 'GMT+01:00', '(GMT+01:00) Amsterdam, Berlin' as a fixed offset; None when the text is not one."""
    match = _OFFSET.match(text.strip().lstrip("("))
    if match is None:
        return None
    if not match["sign"]:
        return UTC
    delta = timedelta(hours=int(match["hours"]), minutes=int(match["minutes"] or 0))
    if delta >= timedelta(hours=15):
        return None
    return timezone(delta if match["sign"] == "+" else -delta)


def _zone_of(text: str) -> tzinfo | None:
    """A row's own time zone column (GoTo Webinar's "Time Zone"): an IANA name or a UTC offset, else None."""
    text = text.strip()
    if not text:
        return None
    if "/" in text and " " not in text:
        try:
            return ZoneInfo(text)
        except (ZoneInfoNotFoundError, ValueError):
            return None
    return _offset_zone(text)


class _Clock:
    """Reads one file's times. Whether 03/05 is 3 May or 5 March is decided once for the whole
    file, so two rows can never be read in different orders: a 12-hour clock means US order
    (Zoom US, Teams US), "DD/MM/YYYY, HH:MM" with a comma is Teams' European order, the file's own
    dates decide when one of them has a first or second number above 12, and otherwise the
    header's language does: day first for a localised export, Zoom's month first for English."""

    def __init__(self, zone: ZoneInfo, samples: Iterable[str], day_first_language: bool = False) -> None:
        self.zone = zone
        firsts_over_12 = seconds_over_12 = twelve_hour = comma_24h = False
        for value in samples:
            match = _NUMERIC_TIME.match(value.strip())
            if match is None or match["sep"] != "/":
                continue
            firsts_over_12 |= int(match["a"]) > 12
            seconds_over_12 |= int(match["b"]) > 12
            twelve_hour |= match["ampm"] is not None
            comma_24h |= match["ampm"] is None and bool(match["comma"])
        if twelve_hour:
            self.day_first = False
        elif comma_24h:
            self.day_first = True
        elif firsts_over_12 != seconds_over_12:
            self.day_first = firsts_over_12
        else:
            self.day_first = day_first_language
        # A meeting's rows share few join and leave times (to the second): each distinct text is parsed once.
        self._read: dict[tuple[str, tzinfo | None], datetime | None] = {}

    def read(self, value: str, zone: tzinfo | None = None) -> datetime | None:
        """The moment in UTC, or None when the text is not a date and time; zone overrides the account's."""
        try:
            return self._read[value, zone]
        except KeyError:
            moment = self._read[value, zone] = self._parse(value, zone or self.zone)
            return moment

    def _parse(self, value: str, zone: tzinfo) -> datetime | None:
        text = value.strip()
        try:
            if _ISO_TIME.match(text):
                moment = datetime.fromisoformat(text)
            elif match := _NUMERIC_TIME.match(text):
                first, second = int(match["a"]), int(match["b"])
                day_first = self.day_first or match["sep"] in ".-"
                day, month = (first, second) if day_first else (second, first)
                year = int(match["year"]) + (2000 if len(match["year"]) == 2 else 0)
                moment = datetime(year, month, day, *self._clock_time(match), tzinfo=self._suffix_zone(match))
            elif match := _NAMED_TIME.match(text):
                month = _MONTHS.get(match["month"].lower())
                if month is None:
                    return None
                moment = datetime(int(match["year"]), month, int(match["day"]), *self._clock_time(match),
                                  tzinfo=self._suffix_zone(match))
            else:
                return None
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        return moment.astimezone(UTC)

    @staticmethod
    def _suffix_zone(match: re.Match[str]) -> tzinfo | None:
        return _offset_zone(match["zone"]) if match["zone"] else None

    @staticmethod
    def _clock_time(match: re.Match[str]) -> tuple[int, int, int]:
        hour, minute, second = int(match["hour"]), int(match["minute"]), int(match["second"] or 0)
        if match["ampm"]:
            if not 1 <= hour <= 12:
                raise ValueError("hour out of range for a 12-hour clock")
            hour = hour % 12 + (12 if match["ampm"][0] in "Pp" else 0)
        return hour, minute, second


@dataclass
class _Table:
    """A header row and the data rows under it; columns maps our keys to positions."""

    header_line: int
    columns: dict[str, int]
    labels: dict[str, str]
    rows: list[Record]
    day_first_language: bool

    @classmethod
    def build(cls, header: Record, rows: list[Record]) -> _Table:
        columns: dict[str, int] = {}
        labels: dict[str, str] = {}
        localised = False
        for index, label in enumerate(header[1]):
            text = _norm(label)
            key = COLUMNS.get(text)
            localised |= text in _DAY_FIRST_LABELS
            if key and not (text in _WEAK and key in columns):
                # Otherwise the last one wins: Zoom's one-table export lists the host's columns first.
                columns[key], labels[key] = index, label
        return cls(header[0], columns, labels, rows, localised)

    def cell(self, cells: list[str], key: str) -> str:
        index = self.columns.get(key)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    @property
    def has_email(self) -> bool:
        return "email" in self.columns or "upn" in self.columns


def _is_header(cells: list[str]) -> bool:
    keys = {COLUMNS.get(_norm(cell)) for cell in cells}
    return ("join" in keys and "leave" in keys) or ("action" in keys and "timestamp" in keys)


def _zoom_title(cells: list[str]) -> str | None:
    """The Zoom section a row opens ("Attendee Details"), if it is a title: one cell, a known name."""
    return ZOOM_SECTIONS.get(_norm(cells[0])) if len(cells) == 1 else None


def _teams_title(cells: list[str]) -> str | None:
    """The Teams section a row opens ("2. Participants"), if it is a title: one numbered cell, a known name."""
    match = _TEAMS_TITLE.match(_norm(cells[0])) if len(cells) == 1 else None
    return TEAMS_SECTIONS.get(match[1]) if match else None


def _decode(data: bytes) -> str:
    """Zoom writes UTF-8 (often with a BOM), Teams and Webex UTF-16; a CSV saved again by Excel may be Windows-1252."""
    if data.startswith(codecs.BOM_UTF8):
        encodings: tuple[str, ...] = ("utf-8-sig",)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ("utf-16",)
    elif (head := data[:2000]).count(0) > len(head) // 4:
        encodings = ("utf-16-le",) if head[1::2].count(0) >= head[0::2].count(0) else ("utf-16-be",)
    else:
        encodings = ("utf-8", "cp1252")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _CONTROL.search(text):  # text has no NULs or other C0 controls: this is a binary file of some kind
            break
        return text
    raise ReportError(1, f"{NOT_A_REPORT}: the file is neither CSV text (UTF-8, UTF-16 or Windows-1252) "
                         f"nor an Excel .xlsx workbook")


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")


def _cell_text(value: object) -> str:
    """A workbook cell as the CSV reader would see it: dates in ISO form (Excel's own dates carry no zone,
    like Zoom's texts), whole numbers without ".0"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _xlsx_records(data: bytes) -> list[Record]:
    """The first sheet's non-blank rows, numbered as Excel numbers them, within the bounds above."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise ReportError(1, f"{NOT_A_REPORT}: the file looks like a ZIP archive (.xlsx) but is damaged") from error
    if not any(member.filename == "xl/workbook.xml" for member in members):
        raise ReportError(1, f"{NOT_A_REPORT}: a ZIP archive that is not an Excel .xlsx workbook")
    # zipfile never unpacks more than a member's declared size, so the declared sizes bound the work.
    if sum(member.file_size for member in members) > XLSX_MAX_UNPACKED_BYTES:
        raise ReportError(1, f"the workbook unpacks to more than {XLSX_MAX_UNPACKED_BYTES // (1024 * 1024)} MB; "
                             f"export the report as CSV")
    records: list[Record] = []
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            if not workbook.worksheets:
                raise ReportError(1, "the workbook has no sheet")
            rows = workbook.worksheets[0].iter_rows(max_col=XLSX_MAX_COLUMNS, values_only=True)
            for number, values in enumerate(rows, start=1):
                if number > XLSX_MAX_ROWS:
                    raise ReportError(number, f"the sheet has more than {XLSX_MAX_ROWS} rows")
                cells = [_cell_text(value) for value in values]
                while cells and not cells[-1]:
                    cells.pop()
                if cells:
                    records.append((number, cells))
        finally:
            workbook.close()
    except ReportError:
        raise
    except Exception as error:  # openpyxl raises anything from KeyError to XML parse errors on a broken workbook
        raise ReportError(1, f"the Excel workbook cannot be read ({type(error).__name__}); export the report as CSV"
                          ) from error
    return records


def _records(text: str, delimiter: str) -> list[Record]:
    """Non-blank rows with the line each starts on, cells stripped and trailing empty cells dropped."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[Record] = []
    line = 1
    try:
        for cells in reader:
            stripped = [cell.strip() for cell in cells]
            while stripped and not stripped[-1]:
                stripped.pop()
            if stripped:
                records.append((line, stripped))
            line = reader.line_num + 1
    except csv.Error as error:
        raise ReportError(line, f"not readable as CSV: {error}") from error
    return records


def _meta_key(label: str) -> str:
    text = _norm(label)
    return METADATA.get(text) or METADATA.get(text.rstrip(":")) or re.sub(r"\W+", "_", text).strip("_")


def _zoom_metadata(records: list[Record]) -> dict[str, str]:
    """Zoom's block above the tables: a title, "Label:,value" lines, and label rows followed by a value row."""
    metadata: dict[str, str] = {}
    index = 0
    while index < len(records):
        cells = records[index][1]
        if len(cells) == 1:
            metadata.setdefault("report", cells[0])
        elif len(cells) == 2 and cells[0].endswith(":"):
            metadata[_meta_key(cells[0])] = cells[1]
        elif index + 1 < len(records):
            metadata.update((_meta_key(label), value) for label, value in zip(cells, records[index + 1][1], strict=False)
                            if value)
            index += 1
        index += 1
    return metadata


def _zoom_webinar(records: list[Record]) -> tuple[list[_Table], dict[str, str]]:
    titles = [(index, _zoom_title(cells)) for index, (_, cells) in enumerate(records)]
    titles = [(index, section) for index, section in titles if section]
    start = next(index for index, section in titles if section == "attendee")
    end = next((index for index, _ in titles if index > start), len(records))
    if start + 1 >= end or not _is_header(records[start + 1][1]):
        raise ReportError(records[start][0], "the Attendee Details section has no header row with Join Time and Leave Time")
    return [_Table.build(records[start + 1], records[start + 2:end])], _zoom_metadata(records[:titles[0][0]])


def _single_table(records: list[Record]) -> tuple[list[_Table], dict[str, str]]:
    """One header row with the rows under it, and what stands above it as metadata: Zoom's meeting
    participants, Webex's attendee report."""
    start = next(index for index, (_, cells) in enumerate(records) if _is_header(cells))
    return [_Table.build(records[start], records[start + 1:])], _zoom_metadata(records[:start])


def _goto(records: list[Record]) -> tuple[list[_Table], dict[str, str]]:
    """GoTo Webinar's attendee report (Excel, or CSV). Its layout as we understand it from GoTo's help pages
    and shared exports, not from a file of ours: a few metadata lines ("Attendee Report:", "Report Generated:",
    a row of labels such as "Webinar ID", "Actual Start Date/Time" over a row of values), then sections such as
    "Attendee Details" and "Staff Details" (panelists, organisers) whose tables have Attended, Interest Rating,
    First Name, Last Name, Email Address, Registration Date, Join Time, Leave Time, Time in Session, Time Zone.
    Whether the times carry a zone abbreviation and what the Time Zone column holds varies between what we
    found; both are read when they are a UTC offset or an IANA name, else the account's zone applies."""
    if any(_zoom_title(cells) == "attendee" for _, cells in records):
        return _zoom_webinar(records)
    return _single_table(records)


def _teams(records: list[Record]) -> tuple[list[_Table], dict[str, str]]:
    """Teams' numbered sections; the In-Meeting Activities list every join and leave, so they are
    preferred, with the Participants list (first join, last leave) as the fallback."""
    sections: dict[str | None, list[Record]] = {None: []}
    current: str | None = None
    for record in records:
        title = _teams_title(record[1])
        if title:
            current = title
            sections[current] = []
        else:
            sections.setdefault(current, []).append(record)
    if "summary" not in sections and "participants" not in sections:  # an older export without numbered sections
        start = next(index for index, (_, cells) in enumerate(records) if _is_header(cells))
        sections = {"summary": records[:start], "participants": records[start:]}
    metadata = {_meta_key(cells[0]): cells[1] for _, cells in sections.get("summary", []) if len(cells) >= 2}
    tables = [_Table.build(section[0], section[1:]) for name in ("activities", "participants")
              if (section := sections.get(name)) and _is_header(section[0][1])]
    if not tables:
        raise ReportError(records[0][0], f"{NOT_A_REPORT}: no Participants section with join and leave times")
    return tables, metadata


def _read_time(table: _Table, clock: _Clock, line: int, cells: list[str], key: str) -> datetime:
    label, raw = table.labels[key], table.cell(cells, key)
    if not raw:
        raise ReportError(line, f"{label} is empty")
    moment = clock.read(raw, _zone_of(table.cell(cells, "timezone")))
    if moment is None:
        raise ReportError(line, f"{label} '{raw}' is not a date")
    return moment


def _row_name(table: _Table, cells: list[str]) -> str:
    return table.cell(cells, "name") or " ".join(
        part for part in (table.cell(cells, "first_name"), table.cell(cells, "last_name")) if part)


def _read_rows(table: _Table, clock: _Clock, emails_by_name: dict[str, str],
               names_only: bool) -> tuple[list[AttendanceRow], list[tuple[int, str]]]:
    """names_only: a Teams list without emails, whose rows keep only the name (matched by name later)."""
    if not table.has_email and not emails_by_name and not names_only:
        raise ReportError(table.header_line, "no Email column: rows cannot be matched to registrations")
    if "action" in table.columns:
        return _read_events(table, clock, emails_by_name)
    rows: list[AttendanceRow] = []
    skipped: list[tuple[int, str]] = []
    for line, cells in table.rows:
        attended = table.cell(cells, "attended")
        if _norm(attended) in DID_NOT_ATTEND:
            skipped.append((line, f"did not attend ({table.labels['attended']} = {attended})"))
            continue
        waiting = table.cell(cells, "waiting_room")
        if _norm(waiting) in YES:
            skipped.append((line, f"in the waiting room ({table.labels['waiting_room']} = {waiting})"))
            continue
        name = _row_name(table, cells)
        email = _row_email(table, cells, emails_by_name, name)
        if not email and not (names_only and name):
            skipped.append((line, "no email"))
            continue
        join = _read_time(table, clock, line, cells, "join")
        leave = _read_time(table, clock, line, cells, "leave")
        if leave < join:
            raise ReportError(line, f"{table.labels['leave']} '{table.cell(cells, 'leave')}' is before "
                                    f"{table.labels['join']} '{table.cell(cells, 'join')}'")
        rows.append(AttendanceRow(line, email, name, join, leave))
    return rows, skipped


def _row_email(table: _Table, cells: list[str], emails_by_name: dict[str, str], name: str) -> str:
    upn = table.cell(cells, "upn")
    return loose_email_key(table.cell(cells, "email") or (upn if "@" in upn else "") or emails_by_name.get(name, ""))


def _read_events(table: _Table, clock: _Clock,
                 emails_by_name: dict[str, str]) -> tuple[list[AttendanceRow], list[tuple[int, str]]]:
    """The older Teams list: a join opens a stretch for that name, the next leave closes it. Someone still in
    the meeting when the list was downloaded has no leave; their stretch ends at the list's last moment,
    which is the latest time the list can vouch for (it undercounts rather than invents presence)."""
    opened: dict[str, tuple[int, datetime]] = {}
    stretches: list[tuple[int, str, datetime, datetime]] = []
    skipped: list[tuple[int, str]] = []
    last: datetime | None = None
    for line, cells in table.rows:
        name, action = _row_name(table, cells), table.cell(cells, "action")
        moment = _read_time(table, clock, line, cells, "timestamp")
        last = moment if last is None else max(last, moment)
        if _norm(action) in JOINED:
            opened.setdefault(name, (line, moment))
        elif _norm(action) in LEFT:
            if name not in opened:
                skipped.append((line, f"a leave without a join before it ({table.labels['action']} = {action})"))
                continue
            join_line, join = opened.pop(name)
            if moment < join:
                raise ReportError(line, f"{table.labels['timestamp']} '{table.cell(cells, 'timestamp')}' is before "
                                        f"the join on line {join_line}")
            stretches.append((join_line, name, join, moment))
        else:
            raise ReportError(line, f"{table.labels['action']} '{action}' is neither a join nor a leave")
    stretches.extend((line, name, join, last) for name, (line, join) in opened.items() if last is not None)
    rows = [AttendanceRow(line, loose_email_key(emails_by_name.get(name, "")), name, join, leave)
            for line, name, join, leave in sorted(stretches)]
    return rows, skipped


def _emails_by_name(table: _Table) -> dict[str, str]:
    """Teams' activity rows may lack the email its Participants list has; names that are not unique are left out."""
    found: dict[str, set[str]] = {}
    for _, cells in table.rows:
        upn = table.cell(cells, "upn")
        email = table.cell(cells, "email") or (upn if "@" in upn else "")
        if email:
            found.setdefault(table.cell(cells, "name"), set()).add(loose_email_key(email))
    return {name: next(iter(emails)) for name, emails in found.items() if len(emails) == 1}


# Labels only Webex and only GoTo Webinar write (lower-case); the rest of their columns are read as above.
WEBEX_LABELS = {"attendee name", "attendee email", "participant name", "participant email", "attendance duration",
                "attendance duration (min)", "connection type", "invited", "registered", "meeting number",
                "attendee type"}
GOTO_LABELS = {"interest rating", "time in session", "in session duration"}


def _detect(text: str) -> tuple[str, list[Record]]:
    for delimiter in (",", "\t", ";"):
        records = _records(text, delimiter)
        if any(_is_header(cells) for _, cells in records):
            return _classify(records, tab=delimiter == "\t"), records
    raise ReportError(1, f"{NOT_A_REPORT}: no header row with join and leave times (such as 'Join Time' and "
                         f"'Leave Time') was found")


def _classify(records: list[Record], tab: bool) -> str:
    """Which platform wrote the rows: Teams' sections or its older list, GoTo's and Webex's own labels,
    Zoom's Attendee Details; a tab-separated file is Teams' (or Webex's, by its labels)."""
    if any(_teams_title(cells) for _, cells in records):
        return TEAMS
    header = next(cells for _, cells in records if _is_header(cells))
    labels = {_norm(cell) for cell in header}
    keys = {COLUMNS.get(label) for label in labels}
    if "action" in keys or "upn" in keys:
        return TEAMS
    if labels & GOTO_LABELS:
        return GOTO_WEBINAR
    if labels & WEBEX_LABELS:
        return WEBEX
    if any(_zoom_title(cells) == "attendee" for _, cells in records):
        return ZOOM_WEBINAR
    return TEAMS if tab else ZOOM_MEETING


def _read_records(data: bytes) -> tuple[str, list[Record]]:
    """The file's format and rows, from CSV text in any encoding the platforms use or from an .xlsx workbook."""
    if data.startswith(b"PK\x03\x04"):
        records = _xlsx_records(data)
        if not records:
            raise ReportError(1, "the file is empty")
        if not any(_is_header(cells) for _, cells in records):
            raise ReportError(1, f"{NOT_A_REPORT}: the workbook's first sheet has no header row with join and "
                                 f"leave times (such as 'Join Time' and 'Leave Time')")
        return _classify(records, tab=False), records
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise ReportError(1, f"{NOT_A_REPORT}: an Excel 97-2003 (.xls) workbook; save it as .xlsx or CSV")
    text = _decode(data)
    if not text.strip("\ufeff \t\r\n"):
        raise ReportError(1, "the file is empty")
    return _detect(text)


def parse_report(data: bytes, default_timezone: str) -> ParsedReport:
    """Every attendance row of the file, or ReportError for the whole file.

    default_timezone (IANA) applies to times without an offset; an unknown zone is a ValueError,
    since it is the caller's setting and not the file's fault. A row of a Teams list without emails
    has an empty email and its name: the caller matches it by name.
    """
    try:
        zone = ZoneInfo(default_timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {default_timezone!r}") from error
    digest = hashlib.sha256(data).hexdigest()
    report_format, records = _read_records(data)
    parse = {ZOOM_WEBINAR: _zoom_webinar, ZOOM_MEETING: _single_table, TEAMS: _teams, WEBEX: _single_table,
             GOTO_WEBINAR: _goto}[report_format]
    tables, metadata = parse(records)
    table = tables[0]
    emails_by_name = _emails_by_name(tables[1]) if len(tables) > 1 else {}
    names_only = report_format == TEAMS and not table.has_email and not emails_by_name
    samples = [table.cell(cells, key) for _, cells in table.rows for key in ("join", "leave", "timestamp")]
    clock = _Clock(zone, samples, table.day_first_language)
    rows, skipped = _read_rows(table, clock, emails_by_name, names_only)
    for key in TIME_METADATA:
        moment = clock.read(metadata[key]) if key in metadata else None
        if moment is not None:
            metadata[f"{key}_utc"] = moment.isoformat()
    return ParsedReport(report_format, rows, skipped, metadata, digest, default_timezone)


def name_key(name: str) -> str:
    """How a report's name and a registration's name are compared: NFKC, case-folded, whitespace collapsed
    (as email keys and the roster's search treat text), so "ＭÜLLER  hans" and "müller hans" are one name."""
    return " ".join(unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold()).split())
