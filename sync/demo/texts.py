"""What synthetic cases say: titles, descriptions, addresses and results per category.

Texts are templates filled with the case's real village and township names and with synthetic
house numbers, people, shops and streets, so that a search for 漏水, 纠纷 or 垃圾 returns a list
that reads like a real command room's. A template marked ``u:`` fits only an urban community
(幢/单元/小区), ``r:`` only a rural village (组/山林/承包地).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from . import names

# Who usually leads the handling of each minor category ("grid" = the case's own grid), who may
# assist in a joint dispatch (联合处置), and its share of all cases (per mille, roughly what
# township statistics show: environment, safety, disputes and services dominate).


@dataclass(frozen=True, slots=True)
class Kind:
    """One minor category's synthetic texts and habits."""

    code: str
    weight: int
    lead: tuple[tuple[str, int], ...]
    assist: tuple[str, ...]
    titles: tuple[str, ...]


KINDS: tuple[Kind, ...] = (
    Kind("0101", 70, (("grid", 6), ("justice", 4)), ("justice", "police"), (
        "{v}{n}号与{n2}号因排水沟堵塞发生争执",
        "{v}{p}与邻居{p2}因宅基地滴水发生纠纷",
        "u:{v}{r}{b}幢住户反映楼上漏水引发邻里纠纷",
        "r:{v}{g}组两户村民因围墙界址发生纠纷",
        "{v}{p}家门前堆放柴火杂物影响通行引发争吵",
        "u:{v}{r}{b}幢{u}单元装修噪音扰民引发邻里矛盾",
        "r:{v}村民{p}与{p2}因鸡鸭散养损坏菜地发生口角",
        "{v}{n}号空调外机滴水引发邻里纠纷",
        "u:{v}{r}{b}幢{room}室卫生间漏水渗至楼下引发纠纷",
    )),
    Kind("0102", 25, (("grid", 5), ("justice", 3), ("civil", 2)), ("civil", "police"), (
        "{v}{p}夫妻因家庭琐事发生争吵",
        "{v}{p}兄弟因老人赡养问题发生纠纷",
        "r:{v}{g}组{p}家因分家析产产生矛盾",
        "u:{v}{r}{b}幢住户家庭矛盾激化，邻居报警",
        "{v}{p}反映子女不履行赡养义务",
    )),
    Kind("0103", 20, (("land", 5), ("justice", 3), ("grid", 2)), ("justice", "land"), (
        "r:{v}{g}组与邻村村民因山林界址发生纠纷",
        "r:{v}{p}与{p2}因承包地边界发生争执",
        "r:{v}村民反映{g}组集体土地流转收益分配不公",
        "r:{v}{p}家责任田被他人占用种植",
        "r:{v}{g}组与{g2}组因灌溉水渠用水发生纠纷",
        "u:{v}{p}与{p2}因自留地边界发生土地纠纷",
    )),
    Kind("0104", 20, (("justice", 6), ("grid", 2), ("market", 2)), ("market", "tax"), (
        "{c}拖欠{k}名工人工资约{money}元",
        "{v}{p}等工人反映{c}拖欠工资{m}个月",
        "{v}某装修工地包工头拖欠民工工资引发纠纷",
        "{c}员工反映公司未依法缴纳社保",
        "{v}建房工地{p}讨薪引发争执",
    )),
    Kind("0105", 15, (("grid", 5), ("justice", 3), ("market", 2)), ("market", "justice"), (
        "u:{v}{r}业主与物业因停车收费发生纠纷",
        "u:{v}{r}{b}幢电梯长期故障，业主与物业产生矛盾",
        "u:{v}{r}物业撤场后垃圾无人清运",
        "u:{v}{r}{b}幢{u}单元楼道漏水，物业推诿不修",
        "u:{v}{r}业主反映物业费上涨未经业主大会同意",
        "r:{v}安置小区物业服务不到位引发纠纷",
    )),
    Kind("0201", 60, (("fire", 6), ("grid", 3), ("emergency", 1)), ("emergency", "enforcement"), (
        "u:{v}{r}{b}幢楼道电动车充电飞线",
        "{v}{n}号出租房电动自行车违规停放充电",
        "{v}{shop}消防通道被杂物堵塞",
        "{v}{place}灭火器过期未更换",
        "{c}仓库消防设施损坏",
        "{v}{n}号民房违规住人且堆放大量易燃物",
    )),
    Kind("0202", 30, (("emergency", 5), ("market", 3), ("fire", 2)), ("fire", "market"), (
        "{v}{shop}液化气钢瓶与灶具未保持安全距离",
        "{v}{n}号住户反映闻到燃气异味",
        "u:{v}{r}燃气管道锈蚀存在泄漏风险",
        "{v}{shop}使用不合格燃气减压阀和软管",
        "{v}餐饮店使用过期液化气钢瓶",
    )),
    Kind("0203", 30, (("enforcement", 5), ("emergency", 3), ("land", 2)), ("emergency",), (
        "{v}{place}施工工地夜间施工噪音扰民",
        "r:{v}建房工地脚手架未设置防护网",
        "{v}{road}工地渣土车未覆盖沿路撒漏",
        "{v}{n}号旁基坑开挖未设置警示标志",
        "{v}自建房施工占用道路堆放建材",
    )),
    Kind("0204", 35, (("traffic", 6), ("enforcement", 2), ("grid", 2)), ("enforcement",), (
        "{v}{road}与{road2}交叉口信号灯故障",
        "{v}{place}路段路灯损坏，夜间通行不便",
        "{v}{road}路面塌陷形成大坑",
        "{v}{place}车辆乱停放堵塞道路",
        "r:{v}村道弯道处缺少减速带和警示标志",
        "{v}{road}窨井盖缺失",
    )),
    Kind("0205", 25, (("emergency", 6), ("land", 2), ("grid", 2)), ("land", "grid"), (
        "r:{v}{g}组后山出现山体裂缝",
        "{v}{place}排水沟堵塞，雨天积水严重",
        "r:{v}溪边堤坝出现渗水",
        "r:{v}{n}号房屋后坡存在滑坡隐患",
        "{v}低洼地段积水倒灌民房",
    )),
    Kind("0301", 110, (("grid", 6), ("enforcement", 3), ("ecology", 1)), ("enforcement",), (
        "{v}{place}垃圾堆放未及时清运",
        "{v}{road}路边建筑垃圾乱倒",
        "{v}垃圾分类投放点满溢",
        "r:{v}{g}组河道边堆积生活垃圾",
        "u:{v}{r}楼道堆放杂物和垃圾",
        "{v}{place}附近有人焚烧垃圾",
    )),
    Kind("0302", 60, (("ecology", 5), ("enforcement", 3), ("grid", 2)), ("enforcement",), (
        "{v}{shop}污水直排路边雨水管",
        "r:{v}{g}组生活污水管网堵塞外溢",
        "r:{v}养殖场污水流入{river}",
        "u:{v}{r}化粪池满溢",
        "{c}疑似偷排生产废水",
    )),
    Kind("0303", 30, (("grid", 6), ("enforcement", 4)), ("enforcement",), (
        "{v}{place}公厕保洁不到位，异味较大",
        "{v}公厕水龙头漏水无人维修",
        "{v}{place}公厕照明损坏",
        "r:{v}旅游公厕未按时开放",
    )),
    Kind("0401", 30, (("land", 6), ("enforcement", 4)), ("enforcement", "land"), (
        "r:{v}{g}组{p}未批先建",
        "r:{v}{p}在承包地上违法建房",
        "{v}{n}号超面积建房",
        "r:{v}村民占用耕地建设附属用房",
    )),
    Kind("0402", 30, (("enforcement", 7), ("grid", 3)), ("land",), (
        "u:{v}{r}{b}幢顶楼违规搭建阳光房",
        "{v}{shop}门前违规搭建雨棚",
        "{v}{n}号院内违规搭建简易棚",
        "u:{v}{r}一楼住户私自圈占绿地搭建",
    )),
    Kind("0501", 40, (("police", 8), ("grid", 2)), ("grid",), (
        "{v}{place}夜间有人聚集赌博",
        "{v}{road}路段电动车被盗",
        "{v}出租房人员登记信息不全",
        "{v}{place}监控探头损坏",
        "{v}{shop}附近有人酒后滋事",
    )),
    Kind("0502", 20, (("police", 6), ("health", 2), ("civil", 2)), ("health", "civil"), (
        "{v}一名精神障碍患者病情不稳定",
        "{v}一名社区矫正人员外出未报告",
        "{v}独居老人{p}行为异常需关注",
        "{v}一名刑满释放人员生活困难需帮扶",
    )),
    Kind("0601", 40, (("civil", 6), ("health", 2), ("grid", 2)), ("health",), (
        "{v}独居老人{p}生活无人照料",
        "{v}居家养老服务中心助餐服务暂停",
        "{v}{p}老人申请居家养老上门服务",
        "{v}高龄老人{p}需办理高龄津贴",
    )),
    Kind("0602", 35, (("civil", 8), ("grid", 2)), ("health",), (
        "{v}{p}家庭因病致贫申请临时救助",
        "{v}{p}反映低保待遇调整有疑问",
        "{v}残疾人{p}申请两项补贴",
        "{v}困难户{p}房屋漏雨需危房改造",
    )),
    Kind("0603", 25, (("civil", 5), ("police", 5)), ("police",), (
        "{v}{p}咨询居住证办理",
        "{v}行动不便老人需上门办理身份证",
        "{v}{p}反映户口迁移手续办理不畅",
        "r:{v}村民咨询宅基地不动产证办理",
    )),
    Kind("0604", 50, (("grid", 5), ("emergency", 3), ("enforcement", 2)), ("emergency",), (
        "{v}{road}自来水管破裂漏水",
        "u:{v}{r}{b}幢停水两天无人处理",
        "r:{v}{g}组电线老化存在漏电隐患",
        "{v}{n}号门前水表井漏水",
        "{v}{place}路灯不亮",
    )),
    Kind("0701", 30, (("market", 9), ("health", 1)), ("health",), (
        "{v}{shop}后厨卫生条件差",
        "{v}流动摊贩售卖无标签食品",
        "{v}{shop}销售过期食品",
        "{v}学校周边小卖部售卖三无零食",
        "r:{v}农家乐未办理食品经营许可",
    )),
    Kind("0702", 20, (("market", 6), ("enforcement", 3), ("tax", 1)), ("tax", "enforcement"), (
        "{v}{road}无证小作坊生产加工",
        "{v}{place}无证经营废品收购点",
        "{v}{shop}无营业执照经营",
        "{v}{n}号民房内开设无证小旅馆",
    )),
    Kind("0801", 15, (("ecology", 6), ("police", 4)), ("police",), (
        "{river}{v}段有人电鱼",
        "r:{v}水库有人使用地笼网捕鱼",
        "禁渔期{river}{v}段有人夜间捕鱼",
    )),
    Kind("0802", 25, (("ecology", 8), ("enforcement", 2)), ("enforcement",), (
        "{c}排放废气异味扰民",
        "r:{v}{place}有人露天焚烧秸秆",
        "{river}{v}段水面出现大量漂浮物和死鱼",
        "{c}夜间生产噪音扰民",
        "r:{v}养猪场臭味影响周边居民",
    )),
    Kind("0901", 12, (("emergency", 7), ("police", 3)), ("police", "fire", "health"), (
        "{v}{road}发生交通事故有人员受伤",
        "{v}{n}号民房发生火情",
        "{v}{place}有人溺水",
        "{c}发生工人受伤事故",
        "r:{v}{g}组山林起火",
    )),
    Kind("0902", 8, (("emergency", 7), ("land", 3)), ("land", "grid"), (
        "r:强降雨致{v}{g}组道路塌方",
        "{v}{place}因暴雨发生内涝",
        "大风导致{v}{road}树木倒伏",
        "r:{v}{g}组发生小型山体滑坡",
        "冰冻天气导致{v}自来水管冻裂漏水",
    )),
    Kind("9901", 90, (("grid", 6), ("civil", 2), ("enforcement", 2)), ("civil",), (
        "{v}{p}咨询医保缴费事宜",
        "{v}{place}流浪狗伤人隐患",
        "{v}{road}广告牌松动",
        "{v}群众建议在{place}增设健身器材",
        "{v}{place}公交站台损坏",
    )),
)  # fmt: skip

#: Categories whose cases come mostly in the flood season (May–September).
FLOOD_SEASON = frozenset({"0205", "0902"})
#: Categories where an urgent report is common.
OFTEN_URGENT = frozenset({"0201", "0202", "0205", "0901", "0902", "0801"})

_DETAILS = {
    "01": (
        "双方多次协商未果，情绪较为激动，请求网格员上门调解。",
        "当事人表示如不解决将继续上访，存在矛盾激化风险。",
        "双方各执一词，需查明事实后组织调解。",
        "该矛盾已持续一段时间，邻里关系紧张，请尽快介入。",
    ),
    "02": (
        "存在较大安全隐患，请相关部门尽快核查处置。",
        "周边群众反映强烈，担心发生事故。",
        "现场已拍照取证，建议限期整改。",
        "该处隐患此前已整改过一次，现又反弹。",
    ),
    "03": (
        "影响村容村貌和群众生活，请尽快清理。",
        "天气炎热，异味明显，周边居民意见较大。",
        "已持续数日无人处理，请督促责任单位落实。",
    ),
    "04": (
        "未见审批公示，疑似违法建设，请核查。",
        "施工仍在继续，请尽快制止。",
        "已影响周边住户采光和通行。",
    ),
    "05": (
        "请派出所加强巡逻防控。",
        "需落实稳控措施，防止发生意外。",
        "群众有安全担忧，请尽快处置。",
    ),
    "06": (
        "当事人家庭困难，请协助办理。",
        "当事人行动不便，希望能上门服务。",
        "请相关部门给予政策解答并协助落实。",
    ),
    "07": (
        "群众担心食品安全，请市场监管部门检查。",
        "经营者无法出示相关证照。",
        "附近学生经常购买，存在安全隐患。",
    ),
    "08": (
        "已拍摄视频取证，请尽快派人制止。",
        "对周边水体和空气造成污染，群众反映强烈。",
        "该问题多次出现，请查明源头。",
    ),
    "09": (
        "情况紧急，请立即派员赶赴现场。",
        "现场已拉设警戒，请相关部门尽快处置。",
        "已拨打120和119，请协调后续处置。",
    ),
    "99": (
        "请相关部门给予答复。",
        "希望能尽快落实。",
        "群众多次反映，请予以关注。",
    ),
}

_RESULTS = {
    "01": (
        "经{unit}上门调解，双方达成一致意见，签订调解协议，矛盾已化解。",
        "网格员联合村调委会组织双方协商，{p}同意整改，双方握手言和。",
        "已召开协调会，明确双方权责，后续由网格员跟踪回访。",
        "经耐心疏导，当事人情绪稳定，达成口头协议并已履行。",
    ),
    "02": (
        "{unit}已现场检查并责令整改，隐患已消除，已拍照留存。",
        "已设置警示标志并组织维修，复查无异常。",
        "已约谈责任人，限期整改完毕，经复查符合安全要求。",
        "已清理堵塞物，恢复通道畅通，纳入日常巡查重点。",
    ),
    "03": (
        "已安排保洁人员清运完毕，现场恢复整洁。",
        "已疏通管网并消毒，张贴文明提示。",
        "已督促责任单位落实长效保洁机制，现场已整改。",
    ),
    "04": (
        "已下发责令停止违法行为通知书，当事人已自行拆除。",
        "{unit}已立案调查，违建部分已依法拆除。",
        "经核实已补办审批手续，纳入规范管理。",
    ),
    "05": (
        "{unit}已出警处置，现场秩序恢复正常，已加强巡逻。",
        "已落实稳控措施，明确专人结对帮扶。",
        "已完成人员信息登记核查，纳入日常管理。",
    ),
    "06": (
        "已协助当事人提交申请材料，相关待遇已落实。",
        "已安排工作人员上门服务，问题已解决。",
        "已联系维修人员抢修，恢复正常使用。",
        "经政策解释，当事人表示理解。",
    ),
    "07": (
        "{unit}已现场检查，责令停业整改，问题食品已下架销毁。",
        "已督促办理营业执照，纳入日常监管。",
        "已立案查处，当事人已整改到位。",
    ),
    "08": (
        "已联合执法现场制止，收缴捕捞工具，并进行普法教育。",
        "{unit}已现场检测，责令企业停产整改，排放已达标。",
        "已清理水面漂浮物，排查污染源并处置。",
    ),
    "09": (
        "已第一时间赶赴现场处置，伤员已送医，现场已清理完毕。",
        "已组织抢险队伍排除险情，道路恢复通行。",
        "已转移受影响群众，险情已解除。",
    ),
    "99": (
        "已转相关部门答复，当事人表示满意。",
        "已协调落实，问题已解决。",
        "已现场处置完毕。",
    ),
}

_WHEN = ("近日", "昨晚", "今天上午", "今天下午", "连日来", "本周以来", "当天")
_SOURCE_PHRASE = {
    "patrol": "网格员巡查发现",
    "resident_app": "群众通过村情通反映",
    "hotline": "12345热线转办",
    "walk_in": "群众来访反映",
    "department": "部门移交",
    "video": "视频监控发现",
}

REJECT_REASONS = (
    "不属于本级受理范围，已告知当事人向有关部门反映",
    "经核实情况不属实",
    "信息不全，多次联系反映人未果，无法核实",
    "属于司法诉讼程序中的事项，已引导当事人依法维权",
)
RETURN_REASONS = (
    "非本部门职责范围，请重新派遣",
    "地址有误，不在本辖区",
    "需由属地网格先行处置",
)
EXTENSION_REASONS = (
    "需协调多个部门，申请延期",
    "等待鉴定结果，申请延期",
    "当事人外出，需延期处理",
    "施工需待天气好转，申请延期",
)
PARK_REASONS = (
    "涉及历史遗留问题，需县级政策支持",
    "诉讼程序中，待法院判决",
    "需纳入明年建设计划，暂时挂账",
)
ESCALATE_REASONS = (
    "超出网格处置能力，请求上级协调",
    "涉及多个部门，需乡镇统筹处置",
    "情况复杂，需县级部门协调",
)

#: What the county command centre writes when it hands a case back down (交办).
HAND_DOWN_INSTRUCTIONS = (
    "经县综合指挥中心研判，属乡镇职责范围，请镇里牵头处置，五个工作日内反馈结果",
    "请乡镇统筹派出所、司法所联合处置，县级部门配合，办结后报县中心备案",
)
URGE_NOTES = (
    "已超期，请抓紧办理并反馈",
    "群众多次来电催问，请加快处置",
    "请于今日内反馈处置进展",
)
COMMENTS = (
    "已电话联系当事人了解情况",
    "已现场查看，正在协调处理",
    "当事人要求处理结果电话告知",
    "已通知村两委干部协助",
    "已与相关部门电话沟通",
)
VERIFY_NOTES = (
    "电话回访当事人，表示满意",
    "现场核查，问题已解决",
    "经现场查看，整改到位",
)
VERIFY_FAIL_REASONS = (
    "现场核查发现问题未彻底解决",
    "当事人反映仍未整改到位",
    "反馈材料缺少现场照片，请补充后重新反馈",
)
EVALUATION_NOTES = ("处置及时，群众满意", "处置结果良好", "", "", "回访满意")


class Slots(dict[str, str]):
    """Template values made on first use, so one case's title, text and address agree."""

    def __init__(
        self,
        rng: random.Random,
        *,
        village: str,
        township: str,
        county: str,
        urban: bool,
        place: str | None,
    ) -> None:
        super().__init__(v=village, t=township)
        self._rng = rng
        self._county = county
        self._urban = urban
        if place is not None:
            self["place"] = place

    def __missing__(self, key: str) -> str:
        rng = self._rng
        if key == "n":
            value = str(rng.randint(1, 188))
        elif key == "n2":
            value = str(int(self["n"]) + 1)
        elif key in ("g", "g2"):
            value = str(rng.randint(1, 12))
            if key == "g2" and value == self["g"]:
                value = str(int(value) % 12 + 1)
        elif key in ("p", "p2"):
            value = names.person(rng)
        elif key == "place":
            value = names.landmark(rng, self._urban)
        elif key in ("road", "road2"):
            value = names.road(rng)
            if key == "road2" and value == self["road"]:
                value = "新" + value
        elif key == "r":
            value = names.compound(rng)
        elif key == "b":
            value = str(rng.randint(1, 32))
        elif key == "u":
            value = str(rng.randint(1, 4))
        elif key == "room":
            value = f"{rng.randint(1, 18)}{rng.randint(1, 4):02d}"
        elif key == "shop":
            value = names.shop(rng)
        elif key == "c":
            value = names.company(rng, self._county)
        elif key == "k":
            value = str(rng.randint(3, 40))
        elif key == "m":
            value = str(rng.randint(2, 8))
        elif key == "money":
            value = f"{rng.randint(8, 260) * 1000}"
        elif key == "river":
            value = names.river(rng)
        elif key == "unit":
            value = "网格员"
        else:
            raise KeyError(key)
        self[key] = value
        return value


@dataclass(frozen=True, slots=True)
class CaseText:
    title: str
    description: str
    address: str


def case_text(
    rng: random.Random, kind: Kind, slots: Slots, *, urban: bool, source: str
) -> CaseText:
    """A title, description and address for one case of ``kind``."""
    wanted = "u:" if urban else "r:"
    fitting = [t for t in kind.titles if t[1] != ":" or t.startswith(wanted)]
    template = rng.choice(fitting)
    if template[1] == ":":
        template = template[2:]
    title = template.format_map(slots)
    major = kind.code[:2]
    description = (
        f"{rng.choice(_WHEN)}，{_SOURCE_PHRASE.get(source, '群众反映')}：{title}。"
        f"{rng.choice(_DETAILS[major])}"
    )
    if urban:
        address = rng.choice(
            ("{t}{v}{road}{n}号", "{t}{v}{r}{b}幢{u}单元{room}室", "{t}{v}{place}")
        ).format_map(slots)
    else:
        address = rng.choice(("{t}{v}{g}组{n}号", "{t}{v}{place}", "{t}{v}{g}组")).format_map(slots)
    return CaseText(title, description, address)


def result_text(rng: random.Random, major: str, slots: Slots, unit: str) -> str:
    """What the handling unit reports back (反馈)."""
    slots["unit"] = unit
    return rng.choice(_RESULTS[major]).format_map(slots)
