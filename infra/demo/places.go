package demo

import (
	"math/rand/v2"

	"github.com/paulmach/orb"

	"github.com/civicsnap/civicsnap/shared/dispatch"
)

// geography samples places in the city: in the seeded areas, or elsewhere in the built-up area.
type geography struct {
	engine *dispatch.Engine
	zones  []zone
}

type zone struct {
	id     string // an area id, or "" for the rest of the town
	bound  orb.Bound
	weight float64
}

// zoneWeights: where reports come from. The old town is dense; a quarter comes from outside the areas.
var zoneWeights = map[string]float64{"old_town": 34, "new_district": 18, "industrial_park": 10, "university_town": 10, "": 28}

// town is the built-up area around the areas (Mengzi's centre is about 23.37 N, 103.39 E).
var town = orb.Bound{Min: orb.Point{103.325, 23.325}, Max: orb.Point{103.465, 23.425}}

func newGeography(areas []dispatch.Area, engine *dispatch.Engine) (*geography, error) {
	g := &geography{engine: engine}
	for _, a := range areas {
		geom, err := a.Polygon()
		if err != nil {
			return nil, err
		}
		if w := zoneWeights[a.ID]; w > 0 {
			g.zones = append(g.zones, zone{id: a.ID, bound: geom.Bound(), weight: w})
		}
	}
	g.zones = append(g.zones, zone{bound: town, weight: zoneWeights[""]})
	return g, nil
}

// sample returns a point (lat, lng, rounded to about 10 cm) in a zone chosen by weight.
func (g *geography) sample(rng *rand.Rand) (float64, float64) {
	z := pick(rng, g.zones, func(z zone) float64 { return z.weight })
	for {
		p := orb.Point{
			z.bound.Min[0] + rng.Float64()*(z.bound.Max[0]-z.bound.Min[0]),
			z.bound.Min[1] + rng.Float64()*(z.bound.Max[1]-z.bound.Min[1]),
		}
		in := g.engine.AreaOf(p)
		if z.id == "" && len(in) == 0 || z.id != "" && len(in) == 1 && in[0] == z.id {
			return round6(p[1]), round6(p[0])
		}
	}
}

// What citizens write, by category. Manhole reports that say the cover is missing get the urgent rule.
var descriptions = map[string][]string{
	"rubbish": {"垃圾堆了好几天没人清运", "垃圾桶满了，垃圾溢到路上", "路边有人乱倒建筑垃圾", "小区门口垃圾成堆，有异味",
		"绿化带里很多塑料袋和饮料瓶"},
	"street_vending": {"流动摊贩占道经营，行人只能走机动车道", "早市摊位占满人行道", "烧烤摊占道，油烟很大",
		"水果摊把路口堵住了"},
	"illegal_parking": {"车辆长时间停在消防通道", "人行道上停满了车", "公交站台前有车辆违停", "盲道被电动车占用",
		"车停在路口，影响转弯视线"},
	"street_light": {"路灯不亮，晚上很黑", "路灯白天一直亮着", "一排路灯都坏了", "路灯闪烁不停", "路灯杆倾斜，有倒塌危险"},
	"damaged_road": {"路面有大坑，下雨积水", "人行道地砖松动翘起", "路面塌陷，车辆绕行", "井盖周边路面破损",
		"减速带损坏，螺丝露出来"},
	"manhole_cover":    {"井盖松动，车压过去响", "井盖破损有裂缝", "井盖下沉，路面不平", "井盖丢失，很危险", "雨水井盖没有了，有人差点掉下去"},
	"uncivil_dog":      {"遛狗不牵绳，追着小孩跑", "狗在小区里随地大小便没人清理", "有大型犬没有拴绳", "流浪狗聚集，晚上乱叫"},
	"illegal_building": {"楼顶正在加盖房子", "小区绿地上私搭棚子", "临街店铺违规外扩搭建", "阳台外面搭了铁皮房"},
	"noise":            {"深夜还有装修施工的声音", "广场舞音响声音太大", "店铺门口大喇叭循环播放", "工地夜间施工噪音扰民"},
	"other":            {"公园座椅损坏", "公交站牌被撞歪了", "河道里有漂浮垃圾", "墙上有大量小广告", "树枝断了挂在电线上"},
}

// Streets of Mengzi, for addresses.
var streets = []string{"天马路", "红河大道", "银河路", "凤凰路", "南湖路", "学府路", "朝阳路", "东风路", "金鸡路",
	"观澜路", "碧色寨路", "新安所路", "文澜镇桂林路", "建设路", "雨过铺路"}

// describe returns a report's text and, for two reports in three, a street address.
func (p *planner) describe(category string) (string, string) {
	list := descriptions[category]
	d := list[p.rng.IntN(len(list))]
	if p.rng.Float64() < 0.33 {
		return d, ""
	}
	return d, streets[p.rng.IntN(len(streets))] + "附近"
}

// What departments write.
var (
	progressNotes = []string{"已派人现场查看 Inspected on site", "已安排施工队 Crew scheduled", "正在处理中 Work under way",
		"已联系责任单位 Owner contacted"}
	resolvedNotes = []string{"已处理完毕 Fixed", "已清理 Cleared", "已修复，附现场照片 Repaired, photo attached",
		"已劝离并督促整改 Moved on, follow-up done", "已更换 Replaced"}
	invalidNotes = []string{"现场核实无此问题 No such problem on site", "照片与描述不符 The photo does not match",
		"重复提交的无效信息 Not a real report"}
	notOursNotes   = []string{"不属于本部门职责 Not our remit", "该设施归属其他单位 Owned by another body"}
	reassignNotes  = []string{"按职责转办 Assigned by remit", "调度中心指派 Assigned by the command center"}
	revocationNote = "复核发现照片为网络图片 Review: the photo was taken from the internet"
)

func pickNote(rng *rand.Rand, notes []string) string { return notes[rng.IntN(len(notes))] }
