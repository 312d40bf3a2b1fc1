"""A demo operational system: a call-centre complaint database whose schema is NOT the ledger.

``create_demo_source(url)`` drops and recreates five tables of a typical Chinese insurer's
客服投诉工单系统 and fills them with plausible, deterministic data (vectorised numpy):

- ``kf_jgxx``  机构信息 (branch master): jg_dm 机构代码, jg_mc 机构名称, sf 省份, sj_jg_dm 上级机构
- ``kf_tsgd``  投诉工单 (tickets): Chinese status/category/channel names, pinyin column names
- ``kf_gdls``  工单流水 (progress log): 登记/联系客户/进度告知/升级/备注
- ``kf_hf``    回访 (call-back survey): 满意/基本满意/不满意/未接通
- ``yw_gmb``   业务规模 (business volume) by branch, year, quarter and business line

Times are stored naive local (Asia/Shanghai), to the second. A few row-level defects of the kinds a
real system produces are planted (see ``DEFECTS``); none is table-level (ticket numbers are unique).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from complaints.calendar import UnknownCalendarYear
from complaints.periods import Period, last_full_quarter
from tasks.calendar_files import load_calendar

# -- the source system's vocabulary -------------------------------------------------------------
BRANCHES = [  # jg_dm, jg_mc, sf, sj_jg_dm
    ("HO", "总公司", "北京", None),
    ("GD", "广东分公司", "广东", "HO"),
    ("GD01", "广州中心支公司", "广东", "GD"),
    ("GD02", "深圳中心支公司", "广东", "GD"),
    ("JS", "江苏分公司", "江苏", "HO"),
    ("JS01", "南京中心支公司", "江苏", "JS"),
    ("JS02", "苏州中心支公司", "江苏", "JS"),
    ("SC", "四川分公司", "四川", "HO"),
    ("SC01", "成都中心支公司", "四川", "SC"),
    ("SD", "山东分公司", "山东", "HO"),
    ("SD01", "济南中心支公司", "山东", "SD"),
    ("SD02", "青岛中心支公司", "山东", "SD"),
]
ENTITIES = ["HO", "GD", "JS", "SC", "SD"]
ENTITY_WEIGHTS = [0.08, 0.31, 0.25, 0.16, 0.20]
PROVINCE = {"HO": "北京", "GD": "广东", "JS": "江苏", "SC": "四川", "SD": "山东"}
PROVINCE_ABBR = {"北京": "京", "广东": "粤", "江苏": "苏", "四川": "川", "山东": "鲁"}

CHANNELS = [
    "95xxx热线",
    "官网",
    "APP",
    "微信",
    "电子邮件",
    "信函",
    "传真",
    "短信",
    "来访",
    "监管转办",
    "协会转办",
    "媒体",
    "其他",
]
# 监管转办 is a large share: a life insurer's regulator-forwarded complaints (12378) are typically a
# fifth or more of what it records (the demo's regulator-basis rates then sit near the bulletin medians)
CHANNEL_WEIGHTS = [0.33, 0.04, 0.08, 0.10, 0.03, 0.03, 0.01, 0.01, 0.08, 0.20, 0.02, 0.01, 0.06]
CATEGORIES = [
    "销售",
    "承保",
    "保全",
    "理赔",
    "退保",
    "续保",
    "收付费",
    "柜面服务",
    "电话中心",
    "产品条款",
    "信息安全",
    "其他",
]
CATEGORY_WEIGHTS = {
    "财产险": [0.06, 0.07, 0.04, 0.50, 0.04, 0.10, 0.05, 0.02, 0.04, 0.03, 0.02, 0.03],
    "人身险": [0.30, 0.04, 0.10, 0.18, 0.17, 0.03, 0.05, 0.03, 0.03, 0.03, 0.02, 0.02],
}
PRODUCTS = {
    "财产险": (["车险", "保证险", "其他财产险"], [0.75, 0.08, 0.17]),
    "人身险": (["普通寿险", "健康险", "意外险", "年金险", "其他人身险"], [0.30, 0.35, 0.12, 0.18, 0.05]),
}
SEVERITIES = ["倾诉", "一般", "重大", "疑难", "举报"]
STATUSES = ["待处理", "处理中", "已答复", "已结案", "已撤诉", "不予受理"]
OUTCOMES = ["客户接受", "依法维持", "无效投诉", "撤诉", "诉讼仲裁"]
REJECTIONS = ["非消费者投诉", "重复投诉无新事实", "已处理完毕", "非本机构事项", "已进入诉讼仲裁", "其他"]
COMPLEXITY = ["一般", "复杂", "特别复杂"]
DEPT_BY_CATEGORY = [
    "销售部",
    "核保部",
    "保全部",
    "理赔部",
    "客服中心",
    "核保部",
    "财务部",
    "柜面",
    "客服中心",
    "产品部",
    "信息技术部",
    "其他",
]
LOG_KINDS = ["登记", "联系客户", "进度告知", "升级", "备注"]
CALLBACK = ["满意", "基本满意", "不满意", "未接通"]
SUMMARIES = [
    "客户反映销售人员夸大收益、未说明退保损失，要求全额退保",
    "客户反映投保时未如实告知健康告知内容导致保单无法生效",
    "客户反映办理保单变更手续繁琐，多次往返柜面",
    "客户反映理赔时效慢，材料已交齐仍未赔付，要求尽快处理",
    "客户要求全额退还已交保费，对现金价值扣减有异议",
    "客户反映续保保费上涨未提前告知",
    "客户反映保费重复扣款，要求退还",
    "客户反映柜面服务态度差，等候时间长",
    "客户反映95xxx热线长时间无人接听",
    "客户对条款中免责范围理解有异议",
    "客户反映频繁接到营销电话，怀疑个人信息泄露",
    "客户对服务不满，情绪激动，要求公司给予说法",
]
# Planted row-level defects the quality gate quarantines (one row per kind at 20k a year).
DEFECTS = (
    "decided_before_received",
    "unknown_category",
    "bad_date_text",
    "missing_branch",
    "unmasked_mobile",
)

_META = sa.MetaData()
JGXX = sa.Table(
    "kf_jgxx",
    _META,
    sa.Column("jg_dm", sa.String(10), primary_key=True, comment="机构代码"),
    sa.Column("jg_mc", sa.String(60), nullable=False, comment="机构名称"),
    sa.Column("sf", sa.String(20), comment="省份"),
    sa.Column("sj_jg_dm", sa.String(10), comment="上级机构代码"),
)
TSGD = sa.Table(
    "kf_tsgd",
    _META,
    sa.Column("gd_no", sa.String(20), primary_key=True, comment="工单号"),
    sa.Column("fgs_dm", sa.String(10), comment="分公司代码"),
    sa.Column("cljg_dm", sa.String(10), comment="处理机构代码"),
    sa.Column("sf", sa.String(20), comment="投诉所属省份"),
    sa.Column("slsj", sa.DateTime, nullable=False, index=True, comment="受理时间"),
    sa.Column("tsly", sa.String(20), comment="投诉来源/渠道"),
    sa.Column("ywlx", sa.String(10), comment="业务类型"),
    sa.Column("cpxl", sa.String(20), comment="产品线"),
    sa.Column("tssy", sa.String(20), comment="投诉事由"),
    sa.Column("qtsy", sa.String(60), comment="其他事由(；分隔)"),
    sa.Column("tsyy", sa.String(60), comment="投诉原因(溯源，；分隔)"),
    sa.Column("tsjb", sa.String(10), comment="投诉级别"),
    sa.Column("sjje", sa.Numeric(14, 2), comment="涉及金额"),
    sa.Column("tsrs", sa.Integer, comment="投诉人数"),
    sa.Column("mtbg", sa.String(1), comment="媒体曝光 Y/N"),
    sa.Column("jgzb", sa.String(1), comment="监管转办 Y/N"),
    sa.Column("zbrq", sa.String(20), comment="转办日期(手工录入文本)"),
    sa.Column("zbwh", sa.String(40), comment="转办文号"),
    sa.Column("qrsj", sa.DateTime, comment="确认收到时间"),
    sa.Column("sfsl", sa.String(1), comment="是否受理 Y/N"),
    sa.Column("bslyy", sa.String(20), comment="不予受理原因"),
    sa.Column("fzcd", sa.String(10), comment="复杂程度"),
    sa.Column("ztts", sa.Integer, comment="暂停计时天数"),
    sa.Column("cxjssj", sa.DateTime, comment="重新计时时间"),
    sa.Column("dfsj", sa.DateTime, index=True, comment="答复(处理决定告知)时间"),
    sa.Column("jasj", sa.DateTime, comment="结案时间"),
    sa.Column("zt", sa.String(10), nullable=False, comment="状态"),
    sa.Column("jafs", sa.String(10), comment="结案方式"),
    sa.Column("yxts", sa.String(1), comment="有效投诉 Y/N"),
    sa.Column("sfss", sa.String(1), comment="是否属实 Y/N"),
    sa.Column("pfje", sa.Numeric(14, 2), comment="赔付金额"),
    sa.Column("zrbm", sa.String(20), comment="责任部门"),
    sa.Column("cfts_ydh", sa.String(20), comment="重复投诉原工单号"),
    sa.Column("sj_ydh", sa.String(20), comment="升级投诉原工单号"),
    sa.Column("hcsqsj", sa.DateTime, comment="核查申请时间"),
    sa.Column("hcjdsj", sa.DateTime, comment="核查决定时间"),
    sa.Column("tsr_id", sa.String(20), comment="投诉人标识"),
    sa.Column("bdh", sa.String(30), comment="保单号"),
    sa.Column("tsnr", sa.String(400), comment="投诉内容摘要"),
    sa.Column("lrr", sa.String(20), comment="录入人"),
    sa.Column("khyq", sa.String(1), comment="客户申请延期处理 Y/N（有录音或书面记录）"),
)
GDLS = sa.Table(
    "kf_gdls",
    _META,
    sa.Column("ls_id", sa.Integer, primary_key=True, autoincrement=False, comment="流水号"),
    sa.Column("gd_no", sa.String(20), nullable=False, index=True, comment="工单号"),
    sa.Column("czsj", sa.DateTime, nullable=False, comment="操作时间"),
    sa.Column("czlx", sa.String(10), nullable=False, comment="操作类型"),
    sa.Column("czr", sa.String(20), comment="操作人"),
)
HF = sa.Table(
    "kf_hf",
    _META,
    sa.Column("hf_id", sa.Integer, primary_key=True, autoincrement=False, comment="回访流水号"),
    sa.Column("gd_no", sa.String(20), nullable=False, index=True, comment="工单号"),
    sa.Column("hfsj", sa.DateTime, nullable=False, comment="回访时间"),
    sa.Column("hfjg", sa.String(10), nullable=False, comment="回访结果"),
    sa.Column("hfr", sa.String(20), comment="回访人"),
)
GMB = sa.Table(
    "yw_gmb",
    _META,
    sa.Column("jg_dm", sa.String(10), primary_key=True, comment="机构代码"),
    sa.Column("tjnd", sa.Integer, primary_key=True, autoincrement=False, comment="统计年度"),
    sa.Column("jd", sa.Integer, primary_key=True, autoincrement=False, comment="季度"),
    sa.Column("ywlx", sa.String(10), primary_key=True, comment="业务类型"),
    sa.Column("bfsr", sa.Numeric(18, 2), comment="保费收入(元)"),
    sa.Column("cbjs", sa.Integer, comment="承保件数"),
    sa.Column("cbrc", sa.Integer, comment="承保人次"),
)
FD = sa.Table(
    "kf_fd",
    _META,
    sa.Column("fd_id", sa.Integer, primary_key=True, autoincrement=False, comment="罚单流水号"),
    sa.Column("gd_no", sa.String(20), nullable=False, index=True, comment="工单号"),
    sa.Column("cfdw", sa.String(20), nullable=False, comment="被处罚单位(机构代码或部门)"),
    sa.Column("cfr", sa.String(20), comment="被处罚人工号"),
    sa.Column("fkje", sa.Numeric(12, 2), nullable=False, comment="罚款金额(元)"),
    sa.Column("fdrq", sa.DateTime, nullable=False, comment="罚单日期"),
    sa.Column("cfyy", sa.String(40), comment="处罚原因"),
)
DEMO_TABLES = (JGXX, TSGD, GDLS, HF, GMB, FD)

_NAT = np.datetime64("NaT", "s")
_DAY = np.timedelta64(1, "D")


def default_span(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """From 1 January of the year before the last full quarter's year, through yesterday: every quarter
    filing has its QoQ, YoY and trend, and the annual self-inspection has a whole previous year."""
    today = today or dt.date.today()
    return dt.date(last_full_quarter(today).year - 1, 1, 1), today - dt.timedelta(days=1)


def _pick(rng: np.random.Generator, items: list[str], weights: Iterable[float], n: int) -> np.ndarray:
    w = np.asarray(list(weights), dtype=float)
    return np.asarray(items, dtype=object)[rng.choice(len(items), size=n, p=w / w.sum())]


def _secs(rng: np.random.Generator, n: int, lo_h: float, hi_h: float) -> np.ndarray:
    return (rng.uniform(lo_h, hi_h, n) * 3600).astype("int64").astype("timedelta64[s]")


def _add_workdays(days: np.ndarray, k: np.ndarray) -> np.ndarray:
    """k-th working day after each day (k=0: the day itself) with the Chinese calendar; beyond the
    years the calendar knows (only possible for dates after the demo's end), weekdays only."""

    cal = load_calendar()
    out = days.copy()
    pos = k > 0
    limit = np.datetime64(f"{max(cal.years)}-11-01", "D")
    inside = pos & (days < limit) & (days >= np.datetime64(f"{min(cal.years)}-01-01", "D"))
    try:
        if inside.any():
            out[inside] = cal.add_workdays(days[inside], k[inside])
    except UnknownCalendarYear:  # pragma: no cover - only with a custom end past the known years
        inside[:] = False
    rest = pos & ~inside
    if rest.any():
        out[rest] = np.busday_offset(days[rest], k[rest], roll="forward")
    return out


def generate(
    seed: int = 7, complaints: int = 20000, start: dt.date | None = None, end: dt.date | None = None
) -> dict[str, pd.DataFrame]:
    """The demo tables as DataFrames (source column names), deterministic for ``seed``."""
    d_start, d_end = default_span()
    start, end = start or d_start, end or d_end
    if end < start:
        raise ValueError(f"--end {end} is before --start {start}")
    rng = np.random.default_rng(seed)
    days = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D") + _DAY)
    n = max(int(round(complaints * len(days) / 365.25)), 50)
    now = np.datetime64(end, "D") + _DAY  # the data describe the system as of today 00:00

    # seasonality: quieter weekends and holidays, busier after the Spring Festival and in Q1
    doy = (days - days.astype("datetime64[Y]")).astype(int)
    weekday = (days.astype("int64") + 3) % 7
    weight = (1.0 + 0.25 * np.cos(2 * np.pi * (doy - 60) / 365.25)) * np.where(weekday >= 5, 0.45, 1.0)

    cal = load_calendar()
    known = np.isin(days.astype("datetime64[Y]").astype(int) + 1970, cal.years)
    holiday = np.zeros(len(days), dtype=bool)
    holiday[known] = ~cal.is_workday(days[known]) & (weekday[known] < 5)
    weight = weight * np.where(holiday, 0.3, 1.0)
    rday = np.sort(rng.choice(days, size=n, p=weight / weight.sum()))
    hour = np.clip(rng.normal(13.5, 3.2, n), 7.5, 22.5)
    received = rday.astype("datetime64[s]") + (hour * 3600).astype("int64").astype("timedelta64[s]")
    received = np.sort(received)
    rday = received.astype("datetime64[D]")

    entity = _pick(rng, ENTITIES, ENTITY_WEIGHTS, n)
    # 示例人寿 is a life insurer: ranked in the 人身保险公司 segment, it writes no property lines
    line = np.full(n, "人身险", dtype=object)
    life = line == "人身险"
    cat_idx = np.where(
        life,
        rng.choice(len(CATEGORIES), n, p=CATEGORY_WEIGHTS["人身险"]),
        rng.choice(len(CATEGORIES), n, p=CATEGORY_WEIGHTS["财产险"]),
    )
    category = np.asarray(CATEGORIES, dtype=object)[cat_idx]
    product = np.where(life, _pick(rng, *PRODUCTS["人身险"], n), _pick(rng, *PRODUCTS["财产险"], n))
    channel = _pick(rng, CHANNELS, CHANNEL_WEIGHTS, n)

    # repeats (same matter after closure: linked to the first record) and escalations (new case)
    kind = rng.choice(3, size=n, p=[0.935, 0.05, 0.015])  # 0 original, 1 repeat, 2 escalation
    kind[: max(n // 50, 5)] = 0
    orig_pos = np.flatnonzero(kind == 0)
    orig_recv = received[orig_pos]
    # the first record: an original received 3 to 150 days before (recent matters come back)
    lo = np.searchsorted(orig_recv, received - np.timedelta64(150, "D"))
    hi = np.searchsorted(orig_recv, received - np.timedelta64(3, "D"))
    span = hi - lo
    kind[span < 1] = 0
    link = orig_pos[np.clip(lo + (rng.random(n) * np.maximum(span, 1)).astype(int), 0, len(orig_pos) - 1)]
    link[kind == 0] = -1
    linked = link >= 0
    for arr in (entity, line, category, product):
        arr[linked] = arr[link[linked]]
    life = line == "人身险"
    cat_idx = pd.Index(CATEGORIES).get_indexer(category)
    esc = kind == 2
    channel[esc] = _pick(rng, ["监管转办", "媒体", "来访", "协会转办"], [0.6, 0.1, 0.2, 0.1], int(esc.sum()))

    branch_of = {e: [b for b, _, _, p in BRANCHES if p == e] for e in ENTITIES}
    branch = entity.copy()
    for e, subs in branch_of.items():
        m = (entity == e) & (rng.random(n) < (0.7 if subs else 0.0))
        if subs and m.any():
            branch[m] = _pick(rng, subs, np.ones(len(subs)), int(m.sum()))
    province = np.vectorize(PROVINCE.get, otypes=[object])(entity)
    ho_elsewhere = (entity == "HO") & (rng.random(n) < 0.4)
    province[ho_elsewhere] = _pick(
        rng, ["上海", "浙江", "河南", "湖北", "辽宁"], np.ones(5), int(ho_elsewhere.sum())
    )

    severity = _pick(rng, SEVERITIES, [0.07, 0.80, 0.06, 0.04, 0.03], n)
    media = channel == "媒体"
    severity[media | (esc & (rng.random(n) < 0.5))] = "重大"
    amount = np.round(np.exp(rng.normal(8.0, 1.2, n)), 2)  # median ~3,000 元; ~6% at 20,000 or more
    amount[rng.random(n) < 0.25] = np.nan
    group = np.where(rng.random(n) < 0.01, rng.integers(2, 40, n), 1)
    forwarded = channel == "监管转办"

    # acceptance, withdrawal and complexity
    r = rng.random(n)
    rejected = r < 0.03
    withdrawn = (r >= 0.03) & (r < 0.055)
    venting = (severity == "倾诉") & ~rejected & ~withdrawn
    comp = rng.choice(3, n, p=[0.84, 0.13, 0.03])
    comp[venting] = 0
    claims = category == "理赔"
    wd = np.select(
        [venting, comp == 0, comp == 1],
        [
            rng.integers(0, 2, n),
            np.where(claims, rng.integers(1, 5, n), rng.integers(1, 10, n)),
            rng.integers(8, 20, n),
        ],
        rng.integers(18, 40, n),
    )
    late = rng.random(n) < 0.04
    wd = np.where(late & ~venting, wd + rng.integers(8, 25, n), wd)
    paused = np.where((rng.random(n) < 0.025) & ~venting, rng.integers(5, 25, n), 0)
    restarted_off = np.where((rng.random(n) < 0.01) & ~venting, rng.integers(3, 9, n), 0)
    clock_day = rday + restarted_off.astype("timedelta64[D]")
    restarted = np.where(restarted_off > 0, clock_day.astype("datetime64[s]") + _secs(rng, n, 9, 17), _NAT)
    dday = _add_workdays(clock_day, wd) + paused.astype("timedelta64[D]")
    decided = dday.astype("datetime64[s]") + _secs(rng, n, 9, 19)
    decided = np.maximum(decided, received + np.timedelta64(1800, "s"))
    stuck = (rng.random(n) < 0.006) & ~venting  # never decided: the overdue backlog
    decided[rejected | withdrawn | stuck] = _NAT
    decided[decided >= now] = _NAT
    closed = decided + (rng.integers(0, 8, n) * 86400).astype("timedelta64[s]") + _secs(rng, n, 0, 3)
    closed[rejected] = (rday[rejected] + rng.integers(1, 8, int(rejected.sum())) * _DAY).astype(
        "datetime64[s]"
    ) + _secs(rng, int(rejected.sum()), 9, 18)
    closed[withdrawn] = received[withdrawn] + (rng.integers(1, 12, int(withdrawn.sum())) * 86400).astype(
        "timedelta64[s]"
    )
    closed[closed >= now] = _NAT
    withdrawn_open = withdrawn & np.isnat(closed)

    outcome = _pick(rng, OUTCOMES, [0.80, 0.14, 0.03, 0.0, 0.03], n)
    outcome[withdrawn] = "撤诉"
    outcome[rejected] = "无效投诉"
    outcome[np.isnat(closed)] = None
    status = np.full(n, "处理中", dtype=object)
    status[~np.isnat(decided)] = "已答复"
    status[~np.isnat(closed)] = "已结案"
    status[withdrawn & ~withdrawn_open] = "已撤诉"
    status[rejected & ~np.isnat(closed)] = "不予受理"
    status[np.isnat(decided) & (received >= now - np.timedelta64(2, "D")) & ~rejected] = "待处理"
    valid = ~rejected & ~withdrawn & ~np.isin(outcome, ["无效投诉", "诉讼仲裁"])
    upheld = np.where(~np.isnat(decided), rng.random(n) < 0.42, False) & valid
    redress = np.where(upheld & claims, np.round(np.nan_to_num(amount) * rng.uniform(0.2, 1.0, n), 2), np.nan)
    redress[upheld & ~claims & (rng.random(n) < 0.2)] = 200.0

    ack = received + _secs(rng, n, 0.05, 6)
    late_ack = rng.random(n) < 0.02
    ack[late_ack] = _add_workdays(rday[late_ack], np.full(int(late_ack.sum()), 2)).astype(
        "datetime64[s]"
    ) + _secs(rng, int(late_ack.sum()), 9, 17)
    ack[(rng.random(n) < 0.01) | (ack >= now)] = _NAT

    review = (rng.random(n) < 0.03) & ~np.isnat(decided)
    rev_req = np.where(review, decided + (rng.integers(1, 25, n) * 86400).astype("timedelta64[s]"), _NAT)
    rev_dec = rev_req + (rng.integers(2, 30, n) * 86400).astype("timedelta64[s]")
    rev_req[rev_req >= now] = _NAT
    rev_dec[np.isnat(rev_req) | (rev_dec >= now)] = _NAT

    # forwarded cases: forward date (typed in as text) on or before received, and a reference
    fwd_day = rday - rng.integers(0, 6, n) * _DAY
    fwd_str = pd.Series(fwd_day).dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
    fwd_text = np.where(forwarded, fwd_str, None)
    abbr = np.vectorize(lambda p: PROVINCE_ABBR.get(p, "京"), otypes=[object])(province)
    years = (rday.astype("datetime64[Y]").astype(int) + 1970).astype(str).astype(object)
    seq = rng.integers(100, 9999, n).astype(str).astype(object)
    fwd_ref = np.where(forwarded, abbr + "金消保转〔" + years + "〕" + seq + "号", None)

    extra = np.full(n, None, dtype=object)
    has_extra = rng.random(n) < 0.12
    extra_pick = np.asarray(CATEGORIES, dtype=object)[rng.integers(0, len(CATEGORIES), n)]
    extra[has_extra & (extra_pick != category)] = extra_pick[has_extra & (extra_pick != category)]
    two = has_extra & (rng.random(n) < 0.25)
    two &= pd.notna(extra)
    extra[two] = extra[two] + "；其他"

    causes = _root_causes(np.random.default_rng([seed, 19]), category)

    ref_num = rng.integers(10**9, 10**10, n)
    cust = np.char.add("C", ref_num.astype(str)).astype(object)
    pol_num = rng.integers(10**11, 10**12, n).astype(str)
    policy = np.where(life, np.char.add("P44", pol_num), np.char.add("PDAA2025", pol_num)).astype(object)
    policy[rng.random(n) < 0.05] = None
    for arr in (cust, policy):
        arr[linked] = arr[link[linked]]
    summary = np.asarray(SUMMARIES, dtype=object)[cat_idx]
    masked = rng.random(n) < 0.05
    summary[masked] = (
        summary[masked]
        + "，联系电话138****"
        + rng.integers(1000, 9999, int(masked.sum())).astype(str).astype(object)
    )
    summary[venting] = SUMMARIES[-1]

    # ticket numbers: TS + date + per-day sequence
    day_str = pd.Series(np.datetime_as_string(rday, unit="D")).str.replace("-", "", regex=False)
    per_day = pd.Series(rday).groupby(rday).cumcount().to_numpy() + 1
    gd_no = ("TS" + day_str + pd.Series(per_day).astype(str).str.zfill(5)).to_numpy(dtype=object)
    repeat_of = np.where(kind == 1, gd_no[np.maximum(link, 0)], None)
    escalation_of = np.where(kind == 2, gd_no[np.maximum(link, 0)], None)

    complexity = np.asarray(COMPLEXITY, dtype=object)[comp]
    dept = np.asarray(DEPT_BY_CATEGORY, dtype=object)[cat_idx]
    dept[rejected | (status == "待处理")] = None  # assigned when the ticket is accepted and dispatched
    tickets = pd.DataFrame(
        {
            "gd_no": gd_no,
            "fgs_dm": entity,
            "cljg_dm": branch,
            "sf": province,
            "slsj": received,
            "tsly": channel,
            "ywlx": line,
            "cpxl": product,
            "tssy": category,
            "qtsy": extra,
            "tsyy": causes,
            "tsjb": severity,
            "sjje": amount,
            "tsrs": group,
            "mtbg": np.where(media, "Y", "N"),
            "jgzb": np.where(forwarded, "Y", "N"),
            "zbrq": fwd_text,
            "zbwh": fwd_ref,
            "qrsj": ack,
            "sfsl": np.where(rejected, "N", "Y"),
            "bslyy": np.where(rejected, _pick(rng, REJECTIONS, [0.3, 0.25, 0.15, 0.15, 0.1, 0.05], n), None),  # type: ignore[call-overload]
            "fzcd": complexity,
            "ztts": np.where(paused > 0, paused, 0),
            "cxjssj": restarted,
            "dfsj": decided,
            "jasj": closed,
            "zt": status,
            "jafs": outcome,
            "yxts": np.where(valid, "Y", "N"),
            "sfss": np.where(np.isnat(decided), None, np.where(upheld, "Y", "N")),  # type: ignore[call-overload]
            "pfje": redress,
            "zrbm": dept,
            "cfts_ydh": repeat_of,
            "sj_ydh": escalation_of,
            "hcsqsj": rev_req,
            "hcjdsj": rev_dec,
            "tsr_id": cust,
            "bdh": policy,
            "tsnr": summary,
            "lrr": np.char.add("kf", rng.integers(1001, 1060, n).astype(str)).astype(object),
        }
    )
    _plant_defects(tickets, rng, kind, link)
    tickets["khyq"] = _delay_requests(seed, tickets)

    events = _events(rng, tickets, kind)
    callbacks = _callbacks(rng, tickets, now)
    branches = pd.DataFrame(BRANCHES, columns=["jg_dm", "jg_mc", "sf", "sj_jg_dm"])
    volume = _volume(rng, start, end, complaints / 20000)
    return {"kf_jgxx": branches, "kf_tsgd": tickets, "kf_gdls": events, "kf_hf": callbacks, "yw_gmb": volume,
            "kf_fd": _penalties(seed, tickets, now)}


# 投诉原因 (溯源) as the call centre records them, most likely first for each 事由; the mapping
# (config/sources/demo_callcenter.yaml, tsyy) translates them to the root-cause codes.
CAUSES_BY_CATEGORY = {
    "销售": ["营销方式", "信息披露", "服务质量"],
    "承保": ["制度流程", "合同条款", "服务质量"],
    "保全": ["制度流程", "系统设施", "服务质量"],
    "理赔": ["制度流程", "合同条款", "服务质量"],
    "退保": ["产品收益", "信息披露", "营销方式"],
    "续保": ["自主选择权", "定价收费", "服务质量"],
    "收付费": ["资金安全", "系统设施", "定价收费"],
    "柜面服务": ["服务质量", "制度流程"],
    "电话中心": ["服务质量", "系统设施"],
    "产品条款": ["合同条款", "信息披露"],
    "信息安全": ["个人信息", "系统设施"],
    "其他": ["其他", "服务质量"],
}


def _root_causes(rng: np.random.Generator, category: np.ndarray) -> np.ndarray:
    """投诉原因 for each ticket (its own generator, so the other columns stay as they were): about 88%
    filled, one in six of those with a second cause, joined with the source's separator 「；」."""
    n = len(category)
    first, second = rng.random(n), rng.random(n)
    out = np.full(n, None, dtype=object)
    filled = rng.random(n) < 0.88
    two = rng.random(n) < 0.17
    for i in np.flatnonzero(filled):
        options = CAUSES_BY_CATEGORY.get(str(category[i]), ["其他"])
        a = options[min(int(first[i] ** 1.6 * len(options)), len(options) - 1)]
        b = options[int(second[i] * len(options))]
        out[i] = f"{a}；{b}" if two[i] and b != a else a
    return out


def _plant_defects(t: pd.DataFrame, rng: np.random.Generator, kind: np.ndarray, link: np.ndarray) -> None:
    """A few row-level defects on originals nobody links to (quarantining them leaves no dangling link)."""
    n = len(t)
    referenced = np.zeros(n, dtype=bool)
    referenced[link[link >= 0]] = True
    ok = np.flatnonzero(
        (kind == 0) & ~referenced & t["dfsj"].notna().to_numpy() & (t["jgzb"] == "Y").to_numpy()
    )
    # each quarter gets its own (so whichever quarter the demo files shows the quarantine at work)
    quarter = t["slsj"].to_numpy("datetime64[M]").astype(int)[ok] // 3
    picks: list[list[int]] = [[] for _ in DEFECTS]
    for q in np.unique(quarter):
        candidates = ok[quarter == q]
        per_kind = max(1, len(candidates) // 5000)
        chosen = rng.choice(candidates, size=min(len(candidates), per_kind * len(DEFECTS)), replace=False)
        for i in range(len(DEFECTS)):
            picks[i].extend(chosen[i * per_kind : (i + 1) * per_kind].tolist())
    for name, rows in zip(DEFECTS, picks, strict=True):
        if name == "decided_before_received":
            t.loc[rows, "dfsj"] = t.loc[rows, "slsj"] - pd.Timedelta(days=2)
            t.loc[rows, "jasj"] = t.loc[rows, "slsj"] - pd.Timedelta(days=1)
        elif name == "unknown_category":
            t.loc[rows, "tssy"] = "理赔纠纷"
        elif name == "bad_date_text":
            t.loc[rows, "zbrq"] = "2025年13月45日"
        elif name == "missing_branch":
            t.loc[rows, ["fgs_dm", "cljg_dm"]] = None
        elif name == "unmasked_mobile":
            t.loc[rows, "tsnr"] = "客户反映理赔时效慢，联系电话13812345678"


def _events(rng: np.random.Generator, t: pd.DataFrame, kind: np.ndarray) -> pd.DataFrame:
    received = t["slsj"].to_numpy("datetime64[s]")
    decided = t["dfsj"].to_numpy("datetime64[s]")
    ack = t["qrsj"].to_numpy("datetime64[s]")
    n = len(t)
    late_log = rng.random(n) < 0.03
    logged = received + np.where(
        late_log, rng.integers(86400 + 600, 4 * 86400, n), rng.integers(60, 4 * 3600, n)
    ).astype("timedelta64[s]")
    parts = [(np.arange(n), logged, "登记")]
    has_ack = ~np.isnat(ack)
    parts.append((np.flatnonzero(has_ack), ack[has_ack] + np.timedelta64(120, "s"), "联系客户"))
    # progress notices about every 7 working days (≈ 9 calendar days) while a case runs long
    handling = np.where(np.isnat(decided), 0, (decided - received).astype("timedelta64[D]").astype(int))
    notices = np.maximum(handling // 9, 0)
    notices = np.where(t["fzcd"].to_numpy() == "一般", np.minimum(notices, 1), notices)
    idx = np.repeat(np.arange(n), notices)
    step = np.arange(len(idx)) - np.repeat(np.cumsum(notices) - notices, notices) + 1
    parts.append((idx, received[idx] + (step * 9 * 86400).astype("timedelta64[s]"), "进度告知"))
    esc = np.flatnonzero((kind == 2) | (t["tsjb"].to_numpy() == "重大"))
    parts.append((esc, received[esc] + np.timedelta64(5400, "s"), "升级"))
    note = np.flatnonzero(rng.random(n) < 0.2)
    parts.append(
        (note, received[note] + rng.integers(3600, 3 * 86400, len(note)).astype("timedelta64[s]"), "备注")
    )
    rows = np.concatenate([p[0] for p in parts])
    at = np.concatenate([p[1] for p in parts])
    kinds = np.concatenate([np.full(len(p[0]), p[2], dtype=object) for p in parts])
    frame = pd.DataFrame({"gd_no": t["gd_no"].to_numpy()[rows], "czsj": at, "czlx": kinds})
    frame = frame.sort_values(["czsj", "gd_no"], kind="stable").reset_index(drop=True)
    frame.insert(0, "ls_id", np.arange(1, len(frame) + 1))
    frame["czr"] = np.char.add("kf", rng.integers(1001, 1060, len(frame)).astype(str)).astype(object)
    return frame


def _penalties(seed: int, t: pd.DataFrame, now: np.datetime64) -> pd.DataFrame:
    """投诉罚单: about one in six valid, upheld, decided tickets is fined 2 to 15 days after its decision,
    the handling branch or the responsible department, 200 to 2,000 yuan. Its own generator: the rest of
    the demo stays as it was for a seed."""
    rng = np.random.default_rng([seed, 23])
    decided = t["dfsj"].to_numpy("datetime64[s]")
    fined = (~np.isnat(decided) & (t["yxts"].to_numpy() == "Y") & (t["sfss"].to_numpy() == "Y")
             & (rng.random(len(t)) < 1 / 6))
    idx = np.flatnonzero(fined)
    at = decided[idx] + rng.integers(2, 16, len(idx)).astype("timedelta64[D]").astype("timedelta64[s]")
    keep = at < now
    idx, at = idx[keep], at[keep]
    dept = t["zrbm"].to_numpy(dtype=object)[idx]
    to_dept = (rng.random(len(idx)) < 0.4) & pd.notna(dept)
    unit = np.where(to_dept, dept, t["cljg_dm"].to_numpy(dtype=object)[idx])
    online = np.isin(t["tsly"].to_numpy(dtype=object)[idx], ["官网", "APP", "微信"])
    reason = np.where(online, "网络投诉属实", _pick(rng, PENALTY_REASONS, [0.5, 0.3, 0.2], len(idx)))
    staff = np.char.add("kf", rng.integers(1001, 1060, len(idx)).astype(str)).astype(object)
    frame = pd.DataFrame({"gd_no": t["gd_no"].to_numpy()[idx], "cfdw": unit, "cfr": staff,
                          "fkje": rng.integers(2, 21, len(idx)) * 100.0, "fdrq": at, "cfyy": reason})
    frame = frame[frame["cfdw"].notna()]  # a ticket planted without its branch fines nobody
    frame = frame.sort_values(["fdrq", "gd_no"], kind="stable").reset_index(drop=True)
    frame.insert(0, "fd_id", np.arange(1, len(frame) + 1))
    return frame


PENALTY_REASONS = ["投诉处理超时限", "三次以上重复投诉", "服务态度引发投诉"]


def _delay_requests(seed: int, t: pd.DataFrame) -> np.ndarray:
    """客户申请延期 on a few accepted tickets decided more than 15 days after receipt (about one in eight of
    them), "N" elsewhere. Its own generator: the rest of the demo stays as it was for a seed."""
    rng = np.random.default_rng([seed, 19])
    received = t["slsj"].to_numpy("datetime64[s]")
    decided = t["dfsj"].to_numpy("datetime64[s]")
    slow = ~np.isnat(decided) & ((decided - received) > np.timedelta64(15 * 86400, "s"))
    asked = slow & (t["sfsl"].to_numpy() == "Y") & (rng.random(len(t)) < 0.125)
    return np.where(asked, "Y", "N").astype(object)


def _callbacks(rng: np.random.Generator, t: pd.DataFrame, now: np.datetime64) -> pd.DataFrame:
    closed = t["jasj"].to_numpy("datetime64[s]")
    n = len(t)
    eligible = ~np.isnat(closed) & (t["zt"].to_numpy() == "已结案") & (rng.random(n) < 0.85)
    idx = np.flatnonzero(eligible)
    at = closed[idx] + rng.integers(86400, 5 * 86400, len(idx)).astype("timedelta64[s]")
    keep = at < now
    idx, at = idx[keep], at[keep]
    result = _pick(rng, CALLBACK, [0.62, 0.2, 0.07, 0.11], len(idx))
    retry = (result == "未接通") & (rng.random(len(idx)) < 0.4)
    idx2, at2 = idx[retry], at[retry] + np.timedelta64(86400, "s")
    ok2 = at2 < now
    idx2, at2 = idx2[ok2], at2[ok2]
    result2 = _pick(rng, CALLBACK[:3], [0.7, 0.2, 0.1], len(idx2))
    frame = (
        pd.DataFrame(
            {
                "gd_no": t["gd_no"].to_numpy()[np.concatenate([idx, idx2])],
                "hfsj": np.concatenate([at, at2]),
                "hfjg": np.concatenate([result, result2]),
            }
        )
        .sort_values(["hfsj", "gd_no"], kind="stable")
        .reset_index(drop=True)
    )
    frame.insert(0, "hf_id", np.arange(1, len(frame) + 1))
    frame["hfr"] = np.char.add("hf", rng.integers(201, 230, len(frame)).astype(str)).astype(object)
    return frame


def _volume(rng: np.random.Generator, start: dt.date, end: dt.date, size: float = 1.0) -> pd.DataFrame:
    """Business volume in proportion to the complaint volume (``size`` = complaints a year ÷ 20,000), so the
    demo's rates stay where a reader of the bulletins expects them whatever ``--complaints`` is."""
    first = Period("quarter", start.year, (start.month - 1) // 3 + 1)
    last = Period("quarter", end.year, (end.month - 1) // 3 + 1)
    quarters = []
    q = first
    while q <= last:
        quarters.append(q)
        q = q.shift(1)
    scale = {"HO": 0.15, "GD": 1.3, "JS": 1.1, "SC": 0.7, "SD": 0.9}
    rows: list[dict[str, Any]] = []
    for q in quarters:
        for e in ENTITIES:
            # a large life insurer (about CNY 300bn a year, Q1 the 开门红 season): premium per policy
            # about 2,000 and about 2.2 insured per policy, the proportions of the bulletins' life medians
            # (1.00 件/亿元 : 0.19 件/万张 : 0.09 件/万人次 in 2023Q1)
            season = 1.8 if q.index == 1 else 1.0
            base = 1.7e10 * size * scale[e] * season * rng.uniform(0.92, 1.08)
            policies = int(base / 2000)
            rows.append(
                {
                    "jg_dm": e,
                    "tjnd": q.year,
                    "jd": q.index,
                    "ywlx": "人身险",
                    "bfsr": round(base, 2),
                    "cbjs": policies,
                    "cbrc": int(policies * rng.uniform(2.0, 2.4)),
                }
            )
    return pd.DataFrame(rows)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Plain Python values for executemany: None for missing, datetime to the second, int/float."""
    cols: dict[str, list[Any]] = {}
    for c in frame.columns:
        s = frame[c]
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            vals = s.dt.floor("s").astype(object).where(s.notna(), None).tolist()
            cols[c] = [v.to_pydatetime() if v is not None else None for v in vals]
        else:
            cols[c] = s.astype(object).where(s.notna(), None).tolist()
    names = list(cols)
    return [dict(zip(names, row, strict=True)) for row in zip(*cols.values(), strict=True)]


def write_tables(
    engine: sa.Engine, tables: dict[str, pd.DataFrame], chunk: int = 5000, progress: bool = False
) -> dict[str, int]:
    """Drop and recreate the demo tables and insert ``tables`` (executemany in chunks)."""
    _META.drop_all(engine, checkfirst=True)
    _META.create_all(engine)
    counts: dict[str, int] = {}
    for table in DEMO_TABLES:
        frame = tables[table.name]
        for lo in range(0, len(frame), chunk):
            with engine.begin() as conn:
                conn.execute(table.insert(), _records(frame.iloc[lo : lo + chunk]))
        counts[table.name] = len(frame)
    return counts


def create_demo_source(
    url: str,
    *,
    seed: int = 7,
    complaints: int = 20000,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> dict[str, int]:
    """Create (drop and recreate) the demo call-centre database at ``url``; row counts per table."""
    tables = generate(seed=seed, complaints=complaints, start=start, end=end)
    engine = sa.create_engine(url)
    try:
        return write_tables(engine, tables)
    finally:
        engine.dispose()
