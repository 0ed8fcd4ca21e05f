"""What the demo city is made of: names of people and places, and project plans whose titles, descriptions,
line items, amounts, contractors and residents' needs agree with each other, one or more for each of the six
categories of Art. 8. Plain data only; ``workflow.demo`` fires the events that carry them through the lifecycle.

Every amount is the sum of its line items (quantity × unit price); aid projects (帮扶资助) pay individuals,
whose names are private on the notice board; small-group projects (fewer than 50 direct beneficiaries) stay
well inside the 20% line of a community's 200,000 yuan a year.
"""
from __future__ import annotations

from dataclasses import dataclass, field

CITY_NAME = "xx市"
"""The regulation names its city "xx市" (a city's own name goes into its policy and organisation tree)."""

AREA_NAMES = ["城东大社区", "城西大社区", "河南大社区", "站前大社区", "北山大社区", "新区大社区", "江湾大社区",
              "铁北大社区", "桥南大社区", "松江大社区"]
COMMUNITY_NAMES = ["幸福", "和平", "光明", "长青", "新华", "东风", "团结", "胜利", "前进", "建设", "民主", "红旗",
                   "育才", "青年", "松花", "朝阳", "向阳", "文化", "站前", "北山"]

# The first area's committee and the five first communities' people (what a newcomer logs in as).
AREA_PEOPLE = {"working_secretary": "王建国", "working_member1": "李红梅", "working_member2": "赵志强",
               "director": "陈立新", "finance": "周敏"}
COMMUNITY_PEOPLE = [
    {"secretary": "刘玉梅", "staff": "孙丽娟", "supervisor1": "郑国华", "supervisor2": "吴秀兰"},
    {"secretary": "张海燕", "staff": "马晓东", "supervisor1": "黄建平", "supervisor2": "林淑芬"},
    {"secretary": "杨春雷", "staff": "何静", "supervisor1": "郭德明", "supervisor2": "罗桂芝"},
    {"secretary": "徐文博", "staff": "胡晓梅", "supervisor1": "高福生", "supervisor2": "宋玉兰"},
    {"secretary": "朱丽华", "staff": "韩磊", "supervisor1": "唐振国", "supervisor2": "冯秀珍"},
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
GIVEN = ["建华", "秀英", "桂兰", "志强", "丽娟", "海涛", "玉梅", "国庆", "淑珍", "德明", "春燕", "晓东", "文静",
         "振华", "凤英", "永刚", "红霞", "立新", "秀云", "宏伟", "金凤", "建军", "翠兰", "少华", "美玲", "宝山"]


def person_name(n: int) -> str:
    """The n-th name of a deterministic sequence of ordinary Chinese names (for scaled cities)."""
    return SURNAMES[n % len(SURNAMES)] + GIVEN[(n // len(SURNAMES) + n * 7) % len(GIVEN)]


def community_name(i: int) -> str:
    """幸福社区, 和平社区 … then 幸福二社区 … for the 21st and later communities of a city."""
    base = COMMUNITY_NAMES[i % len(COMMUNITY_NAMES)]
    round_ = i // len(COMMUNITY_NAMES)
    return f"{base}社区" if round_ == 0 else f"{base}{_ORDINAL(round_ + 1)}社区"


def area_name(i: int) -> str:
    base = AREA_NAMES[i % len(AREA_NAMES)]
    round_ = i // len(AREA_NAMES)
    return base if round_ == 0 else base.replace("大社区", f"{_ORDINAL(round_ + 1)}大社区")


def _ORDINAL(n: int) -> str:  # noqa: N802 - reads like the word it makes
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    tens, ones = divmod(n, 10)
    return (digits[tens] if tens > 1 else "") + "十" + (digits[ones] if ones else "")


# Residents (not accounts): resident representatives at joint meetings, objectors, people who post needs.
RESIDENT_REPS = ["赵淑华", "钱国栋", "孙玉珍", "李长顺", "周凤兰", "吴德胜", "郑秀梅", "王福来"]


@dataclass(frozen=True)
class Item:
    description: str
    quantity: int
    unit_price: str
    """Yuan, e.g. "420.00"."""
    catalog: str = ""
    """Government procurement catalogue code (Art. 12), one of ``Policy.procurement_catalog``."""


@dataclass(frozen=True)
class NeedPlan:
    title: str
    description: str
    channel: str = "visit"
    """``visit`` 入户走访 | ``hall`` 服务大厅 | ``platform`` 线上平台."""
    residents: int = 1


@dataclass(frozen=True)
class Plan:
    key: str
    title: str
    category: str
    description: str
    beneficiaries: int
    beneficiaries_desc: str
    contractor: str
    items: tuple[Item, ...]
    needs: tuple[NeedPlan, ...]
    contractor_kind: str = "organisation"
    is_aid: bool = False
    justification: str = ""
    """Why an ``other`` project serves the residents (Art. 8(6))."""
    answer: str = ""
    """The committee's reply to the first need (what a resident reads on the receipt)."""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def amount_fen(self) -> int:
        return sum(i.quantity * _fen(i.unit_price) for i in self.items)

    @property
    def amount(self) -> str:
        fen = self.amount_fen
        return f"{fen // 100}.{fen % 100:02d}"


def _fen(yuan: str) -> int:
    whole, _, frac = yuan.partition(".")
    return int(whole) * 100 + int((frac or "0").ljust(2, "0")[:2])


REPAIR = "C23120000"
LIGHTS = "A02061900"
CLEANING = "C21040000"
TRAINING = "C20200000"
PRINTING = "C08140000"
SPORTS = "A02390000"
AUDIO = "A02091100"
BOOKS = "A05010000"
SECURITY = "C16070000"
GREENING = "C21050000"
TOOLS = "A02190000"
CATERING = "C23090000"
CEREMONY = "C23070000"

PLANS: dict[str, Plan] = {p.key: p for p in [
    # ---- (4) 物业管理服务: old and abandoned compounds, lighting, cleaning, security, public facilities
    Plan("street_lamps", "老旧小区路灯维修", "property",
         "小区内24盏庭院灯年久失修,其中15盏不亮。更换为LED灯具,灯杆除锈刷漆,检修地下线路,改善居民夜间出行安全。",
         860, "小区全体居民(约310户)", "恒亮照明工程有限公司",
         (Item("LED庭院灯具(含灯头、驱动电源)", 24, "420.00", LIGHTS),
          Item("灯杆除锈刷漆", 24, "150.00", REPAIR),
          Item("地下线路检修及安装人工", 1, "4920.00", REPAIR)),
         (NeedPlan("小区路灯大多不亮,晚上出门不安全", "3号楼至6号楼之间的路灯坏了一年多,老人晚上遛弯看不清路。",
                   "visit", 46),
          NeedPlan("希望修一修小区里的路灯", "下夜班回家路上很黑。", "platform", 1)),
         answer="已纳入本季度项目,联席会议通过后公示,预计6月前完工。"),
    Plan("stair_lights", "楼道照明改造", "property",
         "12个单元楼道的白炽灯改为声光控LED灯,更换老化开关和线路,解决楼道夜间无照明的问题。",
         288, "12个单元的居民(96户)", "恒亮照明工程有限公司",
         (Item("声光控LED楼道灯", 96, "45.00", LIGHTS),
          Item("开关及线路更换(每单元)", 12, "240.00", REPAIR),
          Item("安装人工(每单元)", 12, "120.00", REPAIR)),
         (NeedPlan("楼道灯坏了没人修", "5号楼2单元楼道灯全坏,老人上下楼摔过跤。", "hall", 28),)),
    Plan("door_access", "单元门禁维修", "property",
         "弃管小区18个单元门禁损坏,外来人员随意进出。维修门禁主机,更换电控锁和闭门器,为住户补办门禁卡。",
         432, "18个单元的住户(144户)", "安居智能门禁工程有限公司",
         (Item("门禁主机维修", 18, "380.00", REPAIR),
          Item("电控锁", 18, "210.00", REPAIR),
          Item("液压闭门器", 18, "95.00", REPAIR),
          Item("门禁卡", 288, "12.00", REPAIR)),
         (NeedPlan("单元门关不上,外人随便进", "楼里丢过两辆电动车,希望把门禁修好。", "visit", 35),)),
    Plan("cleaning", "弃管小区卫生保洁", "property",
         "物业撤出后的弃管小区由社区聘请保洁公司开展日常保洁、垃圾清运和卫生死角清理,为期6个月。",
         1120, "弃管小区全体居民(约400户)", "洁美家政服务有限公司",
         (Item("日常保洁服务(月)", 6, "3800.00", CLEANING),
          Item("垃圾清运(车次)", 40, "120.00", CLEANING),
          Item("卫生死角集中清理", 1, "2400.00", CLEANING)),
         (NeedPlan("小区垃圾没人清", "物业走了以后垃圾堆在楼后,夏天味道很大。", "hall", 62),
          NeedPlan("楼后垃圾堆积,希望尽快清理", "", "platform", 1))),
    Plan("greening", "小区绿化补植", "property",
         "补植小区中心绿地和楼间空地的死亡苗木,修剪乔木,铺设草坪,并做一年养护。",
         760, "小区居民(约270户)", "绿源园林绿化工程有限公司",
         (Item("丁香、榆叶梅等灌木补植", 120, "65.00", GREENING),
          Item("草坪铺设(平方米)", 600, "12.00", GREENING),
          Item("乔木修剪", 40, "80.00", GREENING),
          Item("一年养护", 1, "3200.00", GREENING)),
         (NeedPlan("楼前绿地荒了", "绿地里的树死了不少,下雨全是泥。", "visit", 30),)),
    Plan("cctv", "小区治安监控维护", "property",
         "老旧小区16个监控点位中有9个损坏。维修更换摄像机、硬盘录像机和线路,恢复出入口和楼间的监控覆盖。",
         930, "小区居民(约330户)", "平安技防工程有限公司",
         (Item("高清网络摄像机", 9, "860.00", SECURITY),
          Item("硬盘录像机(含硬盘)", 1, "3200.00", SECURITY),
          Item("线路及立杆维修", 16, "380.00", REPAIR),
          Item("调试及一年维保", 1, "4980.00", SECURITY)),
         (NeedPlan("小区电动车被偷,监控是坏的", "希望把大门口和车棚的监控修好。", "hall", 40),)),
    Plan("snow_tools", "冬季清雪工具购置", "property",
         "为弃管小区购置推雪板、雪铲、融雪剂等清雪工具,组织居民志愿者冬季清扫主要通道。",
         400, "弃管小区居民(约150户)", "众诚五金商行",
         (Item("推雪板", 20, "65.00", TOOLS),
          Item("雪铲", 30, "38.00", TOOLS),
          Item("环保融雪剂(袋)", 40, "42.00", TOOLS),
          Item("工具存放柜", 1, "380.00", TOOLS)),
         (NeedPlan("冬天下雪路滑没人扫", "楼间道路结冰,老人不敢出门。", "visit", 25),)),
    # ---- (2) 便民利民服务: agency services, printed guides, tools, training lectures, services for the needy
    Plan("smartphone", "老年人智能手机培训", "convenience",
         "举办6期老年人智能手机培训讲座,教会老人使用健康码、视频通话、网上缴费和防范电信诈骗。",
         60, "60岁以上老人(60人)", "银龄数字服务中心",
         (Item("授课讲师课时费(课时)", 12, "150.00", TRAINING),
          Item("培训手册印制", 60, "12.00", PRINTING),
          Item("教学用投影幕布租用(期)", 6, "80.00", TRAINING)),
         (NeedPlan("老人不会用智能手机", "看病挂号、缴费都要用手机,希望社区教一教。", "hall", 35),
          NeedPlan("能不能办个手机培训班", "我父母七十多了,视频通话都不会。", "platform", 1)),
         answer="社区已收到您的建议,将与其他居民的需求一并提议老年人智能手机培训项目。"),
    Plan("haircut", "便民理发服务", "convenience",
         "每月在社区服务站开展一次便民理发,对行动不便的老人上门服务,全年12次。",
         180, "社区老年人和残疾人(约180人)", "巧手美发店",
         (Item("便民理发服务(次)", 12, "300.00", "C23140000"),),
         (NeedPlan("老人理发不方便", "腿脚不好的老人去理发店很难,希望社区能组织上门理发。", "visit", 18),)),
    Plan("agency_point", "居民代理代办服务点", "convenience",
         "在社区服务大厅设代理代办服务点,配置代办用品和便民工具箱,为老人代办社保认证、医保报销等事项。",
         520, "社区居民(约520户)", "社区居民代理代办服务站",
         (Item("代办资料柜", 2, "900.00", "A06040000"),
          Item("便民工具箱", 4, "250.00", TOOLS),
          Item("代办指南印制", 500, "2.00", PRINTING)),
         (NeedPlan("老人办社保认证跑好几趟", "希望社区能帮忙代办。", "hall", 22),)),
    Plan("notice_boards", "社区宣传栏更换", "convenience",
         "更换5处锈蚀的社区宣传栏,印制惠民政策和办事指南,方便居民了解服务信息。",
         900, "社区居民", "华彩广告制作有限公司",
         (Item("不锈钢宣传栏", 5, "1800.00", "A02100000"),
          Item("惠民政策宣传资料印制", 1, "3000.00", PRINTING)),
         (NeedPlan("宣传栏锈坏了", "宣传栏玻璃碎了,政策通知都看不清。", "visit", 8),)),
    # ---- (1) 特困群体服务: meals, medical help, schooling for families in hardship (aid: recipients private)
    Plan("meals", "困难老人助餐服务", "hardship",
         "为12位独居、失能的困难老人提供午餐配送,每人每天一餐,共6个月,由社区老年食堂负责人配送上门。",
         12, "独居、失能困难老人(12人)", "张桂兰",
         (Item("老人午餐配送(人·月)", 72, "125.00", CATERING),),
         (NeedPlan("独居老人吃饭难", "7号楼有几位独居老人腿脚不便,做饭困难。", "visit", 12),),
         contractor_kind="individual", is_aid=True),
    Plan("medical_aid", "困难家庭就医帮扶", "hardship",
         "为因大病致困的8户家庭提供就医交通和陪诊帮扶,帮扶款以收款人签字作为结算凭证。",
         8, "大病致困家庭(8户)", "刘秀英",
         (Item("就医交通及陪诊帮扶(户)", 8, "1250.00", "C23140000"),),
         (NeedPlan("大病家庭看病负担重", "几户人家因病致困,去省城复查的路费都拿不出来。", "visit", 8),),
         contractor_kind="individual", is_aid=True),
    Plan("tutoring", "困难学生课后辅导", "hardship",
         "为6名困难家庭学生提供每周两次的课后作业辅导,由退休教师承担,为期一学期。",
         6, "困难家庭中小学生(6人)", "李淑珍",
         (Item("课后辅导(课时)", 40, "150.00", TRAINING),),
         (NeedPlan("孩子放学后没人辅导作业", "低保家庭的孩子功课跟不上。", "hall", 6),),
         contractor_kind="individual", is_aid=True),
    # ---- (3) 就业创业服务: skills training for the unemployed
    Plan("skills_training", "失业人员技能培训", "employment",
         "与职业培训学校合作开展家政服务和养老护理技能培训两期,每期20人,结业后推荐就业。",
         40, "就业困难人员和下岗失业人员(40人)", "职业技能培训学校",
         (Item("家政服务技能培训(人)", 20, "380.00", TRAINING),
          Item("养老护理技能培训(人)", 20, "350.00", TRAINING),
          Item("培训教材", 40, "10.00", PRINTING)),
         (NeedPlan("下岗后找不到工作", "希望社区能组织技能培训,学门手艺。", "hall", 26),)),
    # ---- (5) 文体活动服务: fitness equipment, audio for square dancing, festivals, reading corner
    Plan("fitness", "小区健身器材更新", "culture",
         "更换广场上锈蚀损坏的8件健身器材,铺设塑胶安全地垫,方便居民健身。",
         900, "社区居民(约900人)", "康体健身器材有限公司",
         (Item("户外健身器材(件)", 8, "2300.00", SPORTS),
          Item("塑胶安全地垫(平方米)", 60, "55.00", SPORTS),
          Item("安装及旧器材拆除", 1, "3300.00", REPAIR)),
         (NeedPlan("健身器材坏了", "广场上的漫步机、扭腰器都坏了,孩子玩有危险。", "visit", 55),)),
    Plan("dance_audio", "广场舞音响购置", "culture",
         "为社区文体协会的广场舞队购置便携音响和无线话筒,并统一音量管理,减少扰民。",
         120, "社区文体队伍成员(约120人)", "天籁音响器材商行",
         (Item("户外便携音响", 2, "1800.00", AUDIO),
          Item("无线话筒(套)", 2, "400.00", AUDIO),
          Item("音响推车及防雨罩", 2, "400.00", AUDIO)),
         (NeedPlan("广场舞队想买个音响", "现在的音响是自己家的,坏了好几次。", "hall", 30),)),
    Plan("double_ninth", "重阳节敬老活动", "culture",
         "重阳节举办敬老文艺演出和长寿宴,为80岁以上老人送上慰问品。",
         160, "社区80岁以上老人和文艺队(约160人)", "社区文体协会",
         (Item("文艺演出舞台及音响租用", 1, "1800.00", CEREMONY),
          Item("慰问品(份)", 80, "40.00", "A05040000"),
          Item("活动场地布置", 1, "1400.00", CEREMONY)),
         (NeedPlan("重阳节想给老人办个活动", "往年都有文艺演出,老人们很盼着。", "visit", 20),)),
    Plan("reading_corner", "社区读书角图书购置", "culture",
         "为社区读书角购置少儿读物、养生保健和时政图书400册,配置书架,开放借阅。",
         300, "社区居民和中小学生(约300人)", "新华书店",
         (Item("图书(册)", 400, "16.00", BOOKS),
          Item("书架", 4, "300.00", "A06050000")),
         (NeedPlan("孩子放假没地方看书", "希望社区读书角多些图书。", "platform", 1),)),
    Plan("spring_gala", "春节联欢会", "culture",
         "春节前举办社区邻里联欢会,由居民自编自演节目,租用场地和音响。",
         300, "社区居民(约300人)", "社区文体协会",
         (Item("场地租用", 1, "3000.00", CEREMONY),
          Item("音响灯光租用", 1, "3200.00", CEREMONY),
          Item("演出服装租用", 30, "60.00", CEREMONY)),
         (NeedPlan("春节想办个联欢会", "居民自己排了节目,想有个场地演出。", "visit", 15),)),
    # ---- (6) 其他方面服务: commendation of volunteers and good examples
    Plan("volunteers", "社区志愿者表彰", "other",
         "对年度优秀志愿者服务队和孝老爱亲典型授牌表彰,制作宣传展板。",
         120, "志愿者服务队成员和居民(约120人)", "华彩广告制作有限公司",
         (Item("荣誉牌匾", 12, "120.00", PRINTING),
          Item("宣传展板", 4, "240.00", PRINTING)),
         (NeedPlan("希望表彰热心志愿者", "楼栋长和志愿者常年义务服务,应该表扬。", "visit", 12),),
         justification="第八条第(六)项:对居民互助、孝老爱亲、社区志愿者服务队等先进典型授牌表彰、宣传报道。"),
]}
