"""新建事件: the quick report form and its pickers (category 大类 → 小类, village → grid)."""
